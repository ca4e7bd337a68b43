-- experiment.serialize wrote table keys bare, so a list-valued key holding a
-- table with keys like "a b" or "end" (or a number like 1/0 or 1/3) gave an
-- experiment.lua that did not load back (or loaded back different).
return { model = { channels = { { ["a b"] = 1, ["end"] = 2, [7] = 3 }, 1 / 3, 1 / 0, 0 / 0, 100.0 } } }

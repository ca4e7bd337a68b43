--set loss.tv.weight=100
--set model.channels={ 8, 16, 32 }
--set run=seed
return { name = "seed", loss = { style = { layers = { "relu1_1" } } }, schedule = { iterations = 3 } }

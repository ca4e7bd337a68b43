/* Reading an image on a background thread, so that decoding it overlaps other
 * work of the caller's (strata stylize decodes its JPEG while the model
 * loads in the weights loader's child). */
#ifndef STRATA_IO_IMAGE_ASYNC_H
#define STRATA_IO_IMAGE_ASYNC_H

#include "../tensor.h"

typedef struct st_image_pending st_image_pending;

/* Starts st_image_read(path) on a thread (in the calling thread when none
 * can be started). NULL only when out of memory, with an error. */
st_image_pending *st_image_read_start(const char *path);

/* Waits for it and frees p: the image, or NULL with the read's own error. */
st_tensor *st_image_read_finish(st_image_pending *p);

/* Waits for it and frees p and the image, unread. */
void st_image_read_abandon(st_image_pending *p);

#endif

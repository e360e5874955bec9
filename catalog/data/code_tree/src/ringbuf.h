/* A fixed-size ring buffer of bytes, for the sample code tree. */
#ifndef RINGBUF_H
#define RINGBUF_H

#include <stddef.h>

typedef struct {
    unsigned char *data;
    size_t capacity;
    size_t head;
    size_t count;
} ringbuf;

int ringbuf_init(ringbuf *rb, size_t capacity);
int ringbuf_push(ringbuf *rb, unsigned char byte);
int ringbuf_pop(ringbuf *rb, unsigned char *out);
void ringbuf_free(ringbuf *rb);

#endif

/* Lowercase .c and .h files are C: ROOTS's extension query missed them. */
#include <stdlib.h>
#include "ringbuf.h"

int ringbuf_init(ringbuf *rb, size_t capacity) {
    rb->data = malloc(capacity);
    if (rb->data == NULL) {
        return -1;
    }
    rb->capacity = capacity;
    rb->head = 0;
    rb->count = 0;
    return 0;
}

int ringbuf_push(ringbuf *rb, unsigned char byte) {
    if (rb->count == rb->capacity) {
        return -1; /* full */
    }
    rb->data[(rb->head + rb->count) % rb->capacity] = byte;
    rb->count++;
    return 0;
}

int ringbuf_pop(ringbuf *rb, unsigned char *out) {
    if (rb->count == 0) {
        return -1; /* empty */
    }
    *out = rb->data[rb->head];
    rb->head = (rb->head + 1) % rb->capacity;
    rb->count--;
    return 0;
}

void ringbuf_free(ringbuf *rb) {
    free(rb->data);
    rb->data = NULL;
    rb->capacity = rb->head = rb->count = 0;
}

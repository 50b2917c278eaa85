/* A growable byte buffer: keys, JSON bodies and SSE lines have no fixed size. */
#ifndef AUTHD_BUF_H
#define AUTHD_BUF_H
#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

/* Each returns false when memory runs out (the buffer keeps what it had). */
bool buf_add(struct buf *b, const void *bytes, size_t n);
bool buf_add_str(struct buf *b, const char *s);
bool buf_add_char(struct buf *b, char c);
/* Keeps the allocation for the next use (the broker thread reuses one per purpose). */
void buf_reset(struct buf *b);
void buf_free(struct buf *b);

#endif

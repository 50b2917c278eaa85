#include "buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

bool buf_add(struct buf *b, const void *bytes, size_t n)
{
	if(n > SIZE_MAX - b->len - 1) return false;
	if(b->len + n + 1 > b->cap){
		size_t cap = b->cap ? b->cap : 64;
		while(cap < b->len + n + 1){
			if(cap > SIZE_MAX / 2) return false;
			cap *= 2;
		}
		char *grown = realloc(b->data, cap);
		if(!grown) return false;
		b->data = grown;
		b->cap = cap;
	}
	if(n) memcpy(b->data + b->len, bytes, n);
	b->len += n;
	b->data[b->len] = '\0'; /* always a C string too */
	return true;
}

bool buf_add_str(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

bool buf_add_char(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if(b->data) b->data[0] = '\0';
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

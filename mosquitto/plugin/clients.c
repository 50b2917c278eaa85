#include "clients.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct node {
	struct node *next;
	const void *client;
	char *username;
};

struct clients {
	struct node **slots;
	size_t nslots; /* a power of two */
	size_t count;
};

static size_t slot_of(const struct clients *c, const void *client)
{
	uintptr_t h = (uintptr_t)client;
	h ^= h >> 17;
	h *= (uintptr_t)0x9e3779b97f4a7c15ULL;
	return (size_t)(h >> 7) & (c->nslots - 1);
}

struct clients *clients_new(void)
{
	struct clients *c = calloc(1, sizeof *c);
	if(!c) return NULL;
	c->nslots = 64;
	if(!(c->slots = calloc(c->nslots, sizeof *c->slots))){
		free(c);
		return NULL;
	}
	return c;
}

void clients_free(struct clients *c)
{
	if(!c) return;
	for(size_t i = 0; i < c->nslots; i++){
		for(struct node *n = c->slots[i], *next; n; n = next){
			next = n->next;
			free(n->username);
			free(n);
		}
	}
	free(c->slots);
	free(c);
}

static void grow(struct clients *c)
{
	if(c->nslots > SIZE_MAX / 2 / sizeof *c->slots) return;
	struct node **slots = calloc(c->nslots * 2, sizeof *slots);
	if(!slots) return; /* longer chains, still correct */
	struct node **old = c->slots;
	size_t nold = c->nslots;
	c->slots = slots;
	c->nslots *= 2;
	for(size_t i = 0; i < nold; i++){
		for(struct node *n = old[i], *next; n; n = next){
			next = n->next;
			size_t s = slot_of(c, n->client);
			n->next = c->slots[s];
			c->slots[s] = n;
		}
	}
	free(old);
}

bool clients_put(struct clients *c, const void *client, const char *username)
{
	if(!c) return false;
	char *name = strdup(username);
	if(!name) return false;
	size_t s = slot_of(c, client);
	for(struct node *n = c->slots[s]; n; n = n->next){
		if(n->client == client){
			free(n->username);
			n->username = name;
			return true;
		}
	}
	struct node *n = malloc(sizeof *n);
	if(!n){
		free(name);
		return false;
	}
	n->client = client;
	n->username = name;
	n->next = c->slots[s];
	c->slots[s] = n;
	if(++c->count > c->nslots) grow(c);
	return true;
}

void clients_drop(struct clients *c, const void *client)
{
	if(!c) return;
	for(struct node **at = &c->slots[slot_of(c, client)]; *at; at = &(*at)->next){
		if((*at)->client == client){
			struct node *n = *at;
			*at = n->next;
			free(n->username);
			free(n);
			c->count--;
			return;
		}
	}
}

size_t clients_count(const struct clients *c)
{
	return c ? c->count : 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **clients_names(const struct clients *c, size_t *n)
{
	*n = 0;
	if(!c || c->count == 0) return NULL;
	char **names = malloc(c->count * sizeof *names);
	if(!names) return NULL;
	size_t k = 0;
	for(size_t i = 0; i < c->nslots; i++){
		for(struct node *e = c->slots[i]; e; e = e->next){
			if(!(names[k] = strdup(e->username))){
				clients_names_free(names, k);
				return NULL;
			}
			k++;
		}
	}
	qsort(names, k, sizeof *names, by_name);
	size_t u = 0;
	for(size_t i = 0; i < k; i++){
		if(u > 0 && strcmp(names[u - 1], names[i]) == 0) free(names[i]);
		else names[u++] = names[i];
	}
	*n = u;
	return names;
}

void clients_names_free(char **names, size_t n)
{
	for(size_t i = 0; i < n; i++) free(names[i]);
	free(names);
}

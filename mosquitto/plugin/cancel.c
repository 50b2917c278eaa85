#include "cancel.h"

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int cancel_init(struct cancel *c)
{
	memset(c, 0, sizeof *c);
	for(int i = 0; i < CANCEL_MAX_FDS; i++) c->fds[i] = -1;
	return pthread_mutex_init(&c->lock, NULL);
}

void cancel_destroy(struct cancel *c)
{
	pthread_mutex_destroy(&c->lock);
}

static curl_socket_t on_open(void *user, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct cancel *c = user;
	(void)purpose;
	pthread_mutex_lock(&c->lock);
	int fd = c->cancelled ? -1 : socket(a->family, a->socktype, a->protocol);
	for(int i = 0; fd >= 0 && i < CANCEL_MAX_FDS; i++){
		if(c->fds[i] < 0){
			c->fds[i] = fd;
			break;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return fd >= 0 ? fd : CURL_SOCKET_BAD;
}

static int on_close(void *user, curl_socket_t fd)
{
	struct cancel *c = user;
	pthread_mutex_lock(&c->lock); /* forgotten before the number can be reused */
	for(int i = 0; i < CANCEL_MAX_FDS; i++){
		if(c->fds[i] == fd) c->fds[i] = -1;
	}
	int rc = close(fd);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

void cancel_attach(struct cancel *c, CURL *curl)
{
	curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, on_open);
	curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, c);
	curl_easy_setopt(curl, CURLOPT_CLOSESOCKETFUNCTION, on_close);
	curl_easy_setopt(curl, CURLOPT_CLOSESOCKETDATA, c);
}

void cancel_now(struct cancel *c)
{
	pthread_mutex_lock(&c->lock);
	c->cancelled = true;
	for(int i = 0; i < CANCEL_MAX_FDS; i++){
		if(c->fds[i] >= 0) shutdown(c->fds[i], SHUT_RDWR);
	}
	pthread_mutex_unlock(&c->lock);
}

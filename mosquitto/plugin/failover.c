#include "failover.h"

void failover_init(struct failover *f, size_t n)
{
	f->n = n;
	f->cur = 0;
	f->retry_at = 0;
	f->retry_ms = FAILOVER_RETRY_MIN_MS;
	f->follow = -1;
}

void failover_follow(struct failover *f, long at)
{
	f->follow = at >= 0 && (size_t)at < f->n ? at : -1;
}

size_t failover_first(const struct failover *f, int64_t now, bool *probing)
{
	*probing = false;
	if(f->follow >= 0) return (size_t)f->follow;
	if(f->cur != 0 && now >= f->retry_at){
		*probing = true;
		return 0;
	}
	return f->cur;
}

size_t failover_nth(size_t first, size_t k)
{
	return k == 0 ? first : (k - 1 < first ? k - 1 : k);
}

void failover_answered(struct failover *f, size_t i, size_t k, bool probing, int64_t now)
{
	if(i == 0){
		f->retry_ms = FAILOVER_RETRY_MIN_MS;
	}else if(f->cur == 0){
		/* moved off the preferred one: probe it in a second */
		f->retry_ms = FAILOVER_RETRY_MIN_MS;
		f->retry_at = now + f->retry_ms;
	}else if(probing && k > 0){
		/* its probe failed: the next one twice as late */
		f->retry_ms = f->retry_ms * 2 > FAILOVER_RETRY_MAX_MS ? FAILOVER_RETRY_MAX_MS
			: f->retry_ms * 2;
		f->retry_at = now + f->retry_ms;
	}
	f->cur = i;
}

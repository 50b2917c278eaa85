/* The policy's unit checks (units_policy.c) and the shared vectors (units_vectors.c); each
 * returns how many checks failed. */
#ifndef AUTHD_UNITS_POLICY_H
#define AUTHD_UNITS_POLICY_H
int units_policy(void);
/* presence.c's table and queue (units_presence.c). */
int units_presence(void);
/* Runs every case of the vectors under dir (test/vectors); prints the counts. */
int units_vectors(const char *dir);
#endif

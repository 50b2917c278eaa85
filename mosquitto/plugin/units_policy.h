/* The policy's unit checks (units_policy.c) and the shared vectors (units_vectors.c); each
 * returns how many checks failed. */
#ifndef AUTHD_UNITS_POLICY_H
#define AUTHD_UNITS_POLICY_H
int units_policy(void);
/* Runs every case of the vectors under dir (test/vectors); prints the counts. */
int units_vectors(const char *dir);
#endif

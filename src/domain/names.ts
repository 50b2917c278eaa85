// Device ids are usernames: they are written into the passwd file (`user:hash`) and the
// acl_file (`user NAME`) and substituted for `%u`, so anything that could split a line,
// a field or a topic level is refused at the API.
export const MAX_NAME_LENGTH = 128;

/** Returns why `name` is not an acceptable device id / username, or null when it is. */
export function usernameProblem(name: string): string | null {
  if (name.length === 0) return 'must not be empty';
  if (name.length > MAX_NAME_LENGTH) return `must be at most ${MAX_NAME_LENGTH} characters`;
  if (name.includes(':')) return 'must not contain ":" (it separates fields in the passwd file)';
  if (/[\p{Cc}\p{Cf}\u2028\u2029]/u.test(name)) return 'must not contain control characters';
  if (/\s/u.test(name)) return 'must not contain whitespace';
  if (/[+#/]/.test(name)) return 'must not contain "+", "#" or "/" (they would widen %u rules)';
  if (name.startsWith('$')) return 'must not start with "$"';
  // A browser, curl and most HTTP clients normalise `.` and `..` path segments (RFC 3986
  // §5.2.4), also spelled `%2e`: /devices/.. would reach /devices. Such a name could never be
  // addressed in a path (the console's buttons would call other routes).
  if (/^(\.|%2e){1,2}$/i.test(name)) return 'must not be "." or ".." (paths cannot address it)';
  return null;
}

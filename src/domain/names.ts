// Device ids are usernames: they are written into the passwd file (`user:hash`) and the
// acl_file (`user NAME`) and substituted for `%u`, so anything that could split a line,
// a field or a topic level is refused at the API.
export const MAX_NAME_LENGTH = 128;

/**
 * Returns why `name` is not acceptable as a NEW device id / username (API, CLI, importers), or
 * null when it is. Beyond what a stored name must pass (storedUsernameProblem), a new one is
 * one spelling of what a person reads: well-formed Unicode, in NFC, with something visible.
 */
export function usernameProblem(name: string): string | null {
  return storedUsernameProblem(name) ?? unicodeProblem(name);
}

// A lone surrogate has no UTF-8 form: Redis would store U+FFFD, so `dev\ud800` and
// `dev\udc00` would be one stored name. U+FFFD itself is what a decoder leaves of bytes that
// were not UTF-8 (a file read by an importer).
const LONE_SURROGATE = /\p{Cs}/u;
// Nothing a reader sees: combining marks, fillers and default-ignorable code points (whitespace
// and format characters are refused already).
const INVISIBLE_ONLY = /^[\p{M}\p{Default_Ignorable_Code_Point}\u2800\u115f\u1160\u3164\uffa0]+$/u;

function unicodeProblem(name: string): string | null {
  if (LONE_SURROGATE.test(name))
    return 'must be well-formed Unicode (a lone surrogate such as \\ud800 has no UTF-8 form)';
  if (name.includes('\ufffd'))
    return 'must not contain U+FFFD (what is left of bytes that were not valid UTF-8)';
  if (name.normalize('NFC') !== name)
    return `must be in Unicode normalization form NFC (${JSON.stringify(name.normalize('NFC'))}): another form of the same text would be another device`;
  if (INVISIBLE_ONLY.test(name))
    return 'must contain a visible character (not only combining marks or blank characters)';
  return null;
}

/** The rules every name must pass, also one stored before the Unicode rules above. */
export function storedUsernameProblem(name: string): string | null {
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

// Client-side checks that mirror the API's rules, so most mistakes are caught before a
// request; the API stays the authority and its own message is shown when it refuses.

/** A lower-case DNS label, 3–40 characters: the API's rule for store names. */
export const STORE_NAME_PATTERN = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
export const STORE_NAME_MIN = 3;
export const STORE_NAME_MAX = 40;
/** The form of a store id (`store-` + 8 of a-z0-9): the API refuses names of this form. */
export const STORE_ID_PATTERN = /^store-[a-z0-9]{8}$/;

/** Returns a sentence telling how to fix the name, or null when it is acceptable. */
export function validateStoreName(name: string): string | null {
  if (name.length === 0) return "Enter a name for the store.";
  if (name.length < STORE_NAME_MIN) return `Use at least ${STORE_NAME_MIN} characters.`;
  if (name.length > STORE_NAME_MAX) return `Use at most ${STORE_NAME_MAX} characters (this one has ${name.length}).`;
  if (/[A-Z]/.test(name)) return "Use lower-case letters only.";
  if (!/^[a-z]/.test(name)) return "Start with a lower-case letter (a–z).";
  if (name.endsWith("-")) return "End with a letter or a digit, not a hyphen.";
  if (!STORE_NAME_PATTERN.test(name)) return "Use only lower-case letters, digits and hyphens (-).";
  if (STORE_ID_PATTERN.test(name)) return "Choose a name that does not look like a store id (store- and 8 letters or digits): it could mean another store.";
  return null;
}

// Values given at once or later: the warm review's answers are at hand (a cached registry
// answer, known credentials), so each step passes them on without making a promise.

/** A value given at once, or the promise of it. */
export type AtOnce<T> = T | Promise<T>;

/** `next(value)`, at once when `value` is at hand, else when it is in (`failed` on a rejection). */
export function andThen<T, U>(
  value: AtOnce<T>,
  next: (value: T) => AtOnce<U>,
  failed?: (error: unknown) => AtOnce<U>,
): AtOnce<U> {
  return value instanceof Promise ? value.then(next, failed) : next(value);
}

/** The values at once when every one is at hand, else the promise of them all. */
export function allOf<T>(values: readonly AtOnce<T>[]): AtOnce<T[]> {
  if (!values.some((value) => value instanceof Promise)) return values as T[];
  return Promise.all(values.map((value) => Promise.resolve(value)));
}

/**
 * `run()`, with its failure, whether thrown at once or a rejection later, turned into
 * `failed`'s value: at once when `run` gives its value at once.
 */
export function recover<T>(run: () => AtOnce<T>, failed: (error: unknown) => T): AtOnce<T> {
  let value: AtOnce<T>;
  try {
    value = run();
  } catch (error) {
    return failed(error);
  }
  return value instanceof Promise ? value.catch(failed) : value;
}

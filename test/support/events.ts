/** Waits for the first core event that matches, failing after a bound (an event, not a sleep). */
import type { EventEnvelope, EventName, Events } from '../../app/contract/index.ts';
import type { QuiverCore } from '../../app/core.ts';

export function nextEvent<K extends EventName>(
  core: QuiverCore,
  name: K,
  match: (payload: Events[K]) => boolean = () => true,
  timeoutMs = 15_000,
): Promise<Events[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`no ${name} event matched within ${timeoutMs} ms`));
    }, timeoutMs);
    const unsubscribe = core.subscribe((event: EventEnvelope) => {
      if (event.name === name && match(event.payload as Events[K])) {
        clearTimeout(timer);
        unsubscribe();
        resolve(event.payload as Events[K]);
      }
    });
  });
}

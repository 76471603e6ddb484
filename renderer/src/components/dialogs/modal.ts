import type { ActionReturn } from 'svelte/action';

/** What a modal dialog does when the person asks to close it. */
export interface ModalOptions {
  /**
   * Esc (or another close request of the browser): the dialog stays open and this decides what
   * happens (the parent removes the dialog to close it, or puts a decision off). Not called for
   * an Esc that ends an input method's composition, nor for one a control inside already handled
   * (`preventDefault`).
   */
  onescape: () => void;
}

const FOCUSABLE =
  'button:not(:disabled), [href], input:not(:disabled), select:not(:disabled), textarea:not(:disabled), summary, [tabindex]:not([tabindex="-1"])';

/** The dialog's focusable elements that are on screen, in document order. */
function focusables(root: HTMLElement): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => el.getClientRects().length > 0);
}

/** Tab moves between radio groups, not radios: `a` and `b` are one Tab stop. */
function sameStop(a: Element | null, b: Element | undefined): boolean {
  if (!a || !b || a === b) return a === b;
  return (
    a instanceof HTMLInputElement &&
    b instanceof HTMLInputElement &&
    a.type === 'radio' &&
    b.type === 'radio' &&
    a.name !== '' &&
    a.name === b.name &&
    a.form === b.form
  );
}

/**
 * The one modal primitive of the window (`<dialog use:modal={{ onescape }}>`): the dialog is shown
 * modal (the rest of the window goes inert); the focus moves to the first element marked
 * `data-autofocus`, else the first focusable one; Tab and Shift+Tab cycle inside; Esc calls
 * `onescape` and goes no further (other Esc handlers of the window do not see it); when the
 * element goes away the focus returns to where it was, if that is still in the page. The parent
 * owns the dialog's life: a dialog closed by anything but its removal (a close request the
 * keydown handler did not see, a `method="dialog"` form) is shown again.
 */
export function modal(dialog: HTMLDialogElement, initial: ModalOptions): ActionReturn<ModalOptions> {
  let options = initial;
  let destroyed = false;
  const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;

  function trapTab(event: KeyboardEvent) {
    const items = focusables(dialog);
    const first = items[0];
    const last = items[items.length - 1];
    if (!first || !last) return;
    const active = document.activeElement;
    const outside = !dialog.contains(active);
    if (event.shiftKey && (outside || sameStop(active, first))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (outside || sameStop(active, last))) {
      event.preventDefault();
      first.focus();
    }
  }

  function onkeydown(event: KeyboardEvent) {
    if (event.key === 'Tab') {
      trapTab(event);
      return;
    }
    // An input method's Escape ends its composition; it is not the person's answer. An Escape a
    // control inside took (a field clearing itself) is not the dialog's either.
    if (event.key !== 'Escape' || event.isComposing || event.defaultPrevented) return;
    // Handled here rather than by the dialog's `cancel` event, which the browser skips (and then
    // closes the dialog itself) on a second Esc without a user activation in between.
    event.preventDefault();
    event.stopPropagation();
    options.onescape();
  }

  /** A close request the keydown handler did not see (no Esc key): the parent decides. */
  function oncancel(event: Event) {
    event.preventDefault();
    options.onescape();
  }

  function onclose() {
    if (!destroyed && dialog.isConnected && !dialog.open) dialog.showModal();
  }

  dialog.addEventListener('keydown', onkeydown);
  dialog.addEventListener('cancel', oncancel);
  dialog.addEventListener('close', onclose);
  if (!dialog.open) dialog.showModal();
  (dialog.querySelector<HTMLElement>('[data-autofocus]') ?? focusables(dialog)[0])?.focus();

  return {
    update(next) {
      options = next;
    },
    destroy() {
      destroyed = true;
      dialog.removeEventListener('keydown', onkeydown);
      dialog.removeEventListener('cancel', oncancel);
      dialog.removeEventListener('close', onclose);
      if (dialog.open) dialog.close();
      if (previous?.isConnected) previous.focus();
    },
  };
}

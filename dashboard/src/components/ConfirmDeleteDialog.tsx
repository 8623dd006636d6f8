// A modal that asks the person to type the store's name before deleting it.
// Focus moves into the dialog, Tab stays inside, Escape cancels, and focus returns to
// the button that opened it.
import { useEffect, useId, useRef, useState, type KeyboardEvent } from "react";

interface Props {
  storeName: string;
  pending: boolean;
  error?: string;
  onConfirm: () => void;
  onCancel: () => void;
}

export function ConfirmDeleteDialog({ storeName, pending, error, onConfirm, onCancel }: Props) {
  const [typed, setTyped] = useState("");
  const dialogRef = useRef<HTMLDivElement>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const id = useId();
  const matches = typed === storeName;

  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    inputRef.current?.focus();
    return () => opener?.focus?.();
  }, []);

  function onKeyDown(e: KeyboardEvent) {
    if (e.key === "Escape" && !pending) {
      e.stopPropagation();
      onCancel();
      return;
    }
    if (e.key !== "Tab" || !dialogRef.current) return;
    const focusable = Array.from(
      dialogRef.current.querySelectorAll<HTMLElement>("input, button:not(:disabled)"),
    );
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (!first || !last) return;
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  }

  return (
    <div className="backdrop" onMouseDown={(e) => e.target === e.currentTarget && !pending && onCancel()}>
      <div
        ref={dialogRef}
        className="dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby={`${id}-title`}
        aria-describedby={`${id}-desc`}
        onKeyDown={onKeyDown}
      >
        <h2 id={`${id}-title`}>Delete store “{storeName}”?</h2>
        <p id={`${id}-desc`}>
          This uninstalls the store and deletes its namespace with all its data. Its record and events are kept.
          This cannot be undone.
        </p>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (matches && !pending) onConfirm();
          }}
        >
          <div className="field">
            <label htmlFor={`${id}-confirm`}>
              Type <strong className="mono">{storeName}</strong> to confirm
            </label>
            <input
              ref={inputRef}
              id={`${id}-confirm`}
              value={typed}
              autoComplete="off"
              spellCheck={false}
              autoCapitalize="none"
              onChange={(e) => setTyped(e.target.value)}
            />
          </div>
          {error && (
            <p className="problem-detail" role="alert">
              {error}
            </p>
          )}
          <div className="form-actions">
            <button type="submit" className="btn btn-danger" disabled={!matches || pending}>
              {pending ? "Deleting…" : "Delete store"}
            </button>
            <button type="button" className="btn" onClick={onCancel} disabled={pending}>
              Cancel
            </button>
          </div>
        </form>
      </div>
    </div>
  );
}

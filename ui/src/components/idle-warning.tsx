import { useEffect, useRef } from "preact/hooks";
import { seconds } from "../words";

/**
 * Kiosk: "are you still there?" over the screen, while the Rust side counts down to
 * starting over. Focus stays on its one button until the warning is over, then goes back.
 */
export function IdleWarning({ secondsLeft, stillHere }: { secondsLeft: number; stillHere: () => void }) {
  const button = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    button.current?.focus();
    // Whatever takes focus elsewhere (a click behind, Tab, Shift+Tab) gives it back.
    const keep = (event: FocusEvent) => {
      if (event.target !== button.current) button.current?.focus();
    };
    const trapTab = (event: KeyboardEvent) => {
      if (event.key === "Tab") {
        event.preventDefault();
        button.current?.focus();
      }
    };
    document.addEventListener("focusin", keep);
    document.addEventListener("keydown", trapTab);
    return () => {
      document.removeEventListener("focusin", keep);
      document.removeEventListener("keydown", trapTab);
      if (before?.isConnected) before.focus();
    };
  }, []);

  return (
    <div class="overlay">
      <div
        class="dialog"
        role="alertdialog"
        aria-modal="true"
        aria-labelledby="idle-title"
        aria-describedby="idle-text"
      >
        <h2 id="idle-title">Are you still there?</h2>
        <p id="idle-text">
          tap2key will start over for the next person in <span class="idle-seconds">{seconds(secondsLeft)}</span>.
        </p>
        <button type="button" class="primary" ref={button} onClick={stillHere}>
          I'm still here
        </button>
      </div>
    </div>
  );
}

import { useEffect, useRef, useState } from "preact/hooks";

/** How long a repeated problem is blank before it is shown again. */
export const REPEAT_GAP_MS = 100;

/**
 * A problem under a field, read out at once by screen readers. Live regions only speak
 * when their text changes, so when the Rust side answers again (`answer` is a new step)
 * the text is blanked for a moment: the same mistake made twice is heard twice.
 */
export function LiveProblem({ id, text, answer }: { id: string; text: string | null; answer: unknown }) {
  const [shown, setShown] = useState(text);
  const mounted = useRef(false);
  useEffect(() => {
    if (!mounted.current) {
      mounted.current = true;
      return;
    }
    setShown(null);
    const later = setTimeout(() => setShown(text), REPEAT_GAP_MS);
    return () => clearTimeout(later);
  }, [answer, text]);
  return (
    <p id={id} class="problem" aria-live="assertive">
      {shown}
    </p>
  );
}

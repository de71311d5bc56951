// Pictures that say what words alone say slowly. Decorative for screen readers: the text
// beside each says the same. Their motion is CSS (styles.css), which stops when the
// person asks for reduced motion; every picture reads just as well standing still.

/** A security key and a card with a one-time code: the two things IT hands over. */
export function KeyAndPass() {
  return (
    <svg class="picture" viewBox="0 0 320 240" aria-hidden="true" focusable="false">
      <rect x="6" y="70" width="180" height="120" rx="14" class="pic-card" />
      <text class="pic-card-title">
        <tspan x="22" y="100">
          Temporary
        </tspan>
        <tspan x="22" y="118">
          Access Pass
        </tspan>
      </text>
      <rect x="22" y="146" width="140" height="26" rx="6" class="pic-code" />
      <text x="32" y="165" class="pic-code-text">
        ••••-••••
      </text>
      <g transform="rotate(-18 250 120)">
        <rect x="226" y="22" width="48" height="36" rx="5" class="pic-plug" />
        <rect x="206" y="52" width="88" height="160" rx="30" class="pic-key" />
        <circle cx="250" cy="112" r="22" class="pic-pad" />
        <circle cx="250" cy="188" r="9" class="pic-hole" />
      </g>
    </svg>
  );
}

/** A separate window with the organisation's sign-in page, where the pass is typed. */
export function SignInWindow() {
  return (
    <svg class="picture" viewBox="0 0 320 240" aria-hidden="true" focusable="false">
      <rect x="10" y="14" width="300" height="212" rx="12" class="pic-window" />
      <path d="M10 26 a12 12 0 0 1 12 -12 h276 a12 12 0 0 1 12 12 v18 h-300 z" class="pic-window-bar" />
      <circle cx="30" cy="30" r="5" class="pic-window-dot" />
      <circle cx="48" cy="30" r="5" class="pic-window-dot" />
      <circle cx="66" cy="30" r="5" class="pic-window-dot" />
      <rect x="46" y="64" width="120" height="12" rx="6" class="pic-line" />
      <rect x="46" y="88" width="190" height="8" rx="4" class="pic-line-soft" />
      <text x="46" y="124" class="pic-label">
        Temporary Access Pass
      </text>
      <rect x="46" y="132" width="228" height="34" rx="7" class="pic-field" />
      <text x="58" y="156" class="pic-field-dots">
        ••••••••
      </text>
      <rect x="148" y="139" width="3" height="20" class="pic-caret" />
      <rect x="174" y="180" width="100" height="30" rx="7" class="pic-button" />
    </svg>
  );
}

/** A security key sliding into a computer's USB port. */
export function InsertKey({ small = false }: { small?: boolean }) {
  return (
    <svg class={small ? "picture picture-small" : "picture"} viewBox="0 0 320 200" aria-hidden="true" focusable="false">
      <rect x="248" y="20" width="72" height="160" rx="10" class="pic-laptop" />
      <rect x="240" y="84" width="14" height="32" rx="3" class="pic-port" />
      <path d="M198 72 l18 28 l-18 28" class="pic-arrow" />
      <g class="pic-sliding">
        <rect x="50" y="62" width="140" height="76" rx="30" class="pic-key" />
        <rect x="188" y="86" width="46" height="28" rx="4" class="pic-plug" />
        <circle cx="124" cy="100" r="20" class="pic-pad" />
        <circle cx="76" cy="100" r="8" class="pic-hole" />
      </g>
    </svg>
  );
}

/** A security key, standing. */
export function OneKey() {
  return (
    <svg class="picture" viewBox="0 0 320 240" aria-hidden="true" focusable="false">
      <g transform="rotate(-12 160 120)">
        <rect x="136" y="4" width="48" height="36" rx="5" class="pic-plug" />
        <rect x="116" y="36" width="88" height="190" rx="32" class="pic-key" />
        <circle cx="160" cy="112" r="24" class="pic-pad" />
        <circle cx="160" cy="198" r="9" class="pic-hole" />
      </g>
    </svg>
  );
}

/** A key whose touch pad glows: "touch it now". */
export function TouchKey() {
  return (
    <svg class="picture" viewBox="0 0 320 240" aria-hidden="true" focusable="false">
      <rect x="136" y="4" width="48" height="36" rx="5" class="pic-plug" />
      <rect x="116" y="36" width="88" height="190" rx="32" class="pic-key" />
      <circle cx="160" cy="112" r="30" class="pic-glow" />
      <circle cx="160" cy="112" r="30" class="pic-glow pic-glow-late" />
      <circle cx="160" cy="112" r="24" class="pic-pad" />
      <circle cx="160" cy="198" r="9" class="pic-hole" />
      <path d="M232 150 q-10 -30 -40 -36 l-6 -1 q-8 0 -6 8 l22 40" class="pic-finger" />
    </svg>
  );
}

/** Several keys, each asking for a touch: the one touched is the one set up. */
export function SeveralKeys({ touch }: { touch: boolean }) {
  const key = (x: number) => (
    <g>
      <rect x={x + 20} y="20" width="40" height="30" rx="5" class="pic-plug" />
      <rect x={x} y="46" width="80" height="160" rx="28" class="pic-key" />
      {touch && <circle cx={x + 40} cy="114" r="26" class="pic-glow" />}
      <circle cx={x + 40} cy="114" r="20" class="pic-pad" />
      <circle cx={x + 40} cy="184" r="8" class="pic-hole" />
    </g>
  );
  return (
    <svg class="picture" viewBox="0 0 320 240" aria-hidden="true" focusable="false">
      {key(50)}
      {key(190)}
    </svg>
  );
}

/** A tick in a circle, with the key beside it. */
export function KeyReady() {
  return (
    <svg class="picture" viewBox="0 0 320 240" aria-hidden="true" focusable="false">
      <g transform="rotate(-18 90 130)">
        <rect x="66" y="32" width="48" height="36" rx="5" class="pic-plug" />
        <rect x="46" y="62" width="88" height="160" rx="30" class="pic-key" />
        <circle cx="90" cy="122" r="22" class="pic-pad" />
        <circle cx="90" cy="198" r="9" class="pic-hole" />
      </g>
      <g class="pic-pop">
        <circle cx="220" cy="110" r="70" class="pic-success" />
        <path d="M186 112 l24 24 l44 -48" class="pic-tick" />
      </g>
    </svg>
  );
}

/** A calm "working on it": three dots breathing in turn. */
export function Waiting() {
  return (
    <svg class="waiting" viewBox="0 0 120 30" aria-hidden="true" focusable="false">
      <circle cx="20" cy="15" r="9" />
      <circle cx="60" cy="15" r="9" />
      <circle cx="100" cy="15" r="9" />
    </svg>
  );
}

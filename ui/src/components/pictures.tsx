// Pictures that say what words alone say slowly. Decorative for screen readers: the text
// beside each says the same.

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

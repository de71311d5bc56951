import type { ComponentChildren } from "preact";
import type { Mode } from "../generated/ipc";
import logo from "../../../icons/128x128.png";

/**
 * The frame around every screen: who we are, whether this is a demo, and the screen.
 * `inert` while a dialog is over it, so neither clicks nor Tab reach behind the dialog.
 */
export function Layout({ mode, inert = false, children }: { mode: Mode; inert?: boolean; children: ComponentChildren }) {
  return (
    <div class="frame" inert={inert} aria-hidden={inert ? "true" : undefined}>
      <header class="brand">
        <img src={logo} alt="" width={40} height={40} />
        <span class="brand-name">tap2key</span>
        {mode === "demo" && (
          <span class="demo-badge" role="note">
            Demo: nothing here touches a real account
          </span>
        )}
      </header>
      <main class="screen">{children}</main>
    </div>
  );
}

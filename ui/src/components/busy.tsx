import type { ComponentChildren } from "preact";
import { ScreenHeading } from "./heading";
import { Waiting } from "./pictures";

/** A screen where the app (or the key, or the directory) is working and the person waits. */
export function Busy({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="single busy">
      <Waiting />
      <ScreenHeading>{title}</ScreenHeading>
      {children}
    </div>
  );
}

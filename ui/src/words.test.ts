import { describe, expect, it } from "vitest";
import type { AddressProblem } from "./generated/ipc";
import { addressProblem } from "./words";

describe("address problems", () => {
  const every: AddressProblem[] = [
    { kind: "empty" },
    { kind: "missingAt" },
    { kind: "moreThanOneAt" },
    { kind: "missingName" },
    { kind: "missingDomain" },
    { kind: "incompleteDomain" },
    { kind: "invalidCharacter", character: "," },
    { kind: "invalidCharacter", character: " " },
    { kind: "misplacedDot" },
    { kind: "invalidDomain" },
    { kind: "tooLong" },
  ];

  it("each has its own sentence, ending with a full stop", () => {
    const sentences = every.map(addressProblem);
    expect(new Set(sentences).size).toBe(every.length);
    for (const sentence of sentences) expect(sentence).toMatch(/^[A-Z].*\.$/);
  });

  it("names the offending character", () => {
    expect(addressProblem({ kind: "invalidCharacter", character: "," })).toContain("“,”");
  });
});

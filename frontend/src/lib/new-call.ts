/**
 * The make-call form's model: its fields and the `POST /api/calls` body it becomes.
 */

import type { NewCall } from "./types";

export type FieldName = "to" | "name" | "callerId" | "prompt" | "firstMessage";
export const FIELDS: readonly FieldName[] = ["to", "name", "callerId", "prompt", "firstMessage"];

export interface Form {
  to: string;
  name: string;
  callerId: string;
  prompt: string;
  firstMessage: string;
}

export const EMPTY_FORM: Form = { to: "", name: "", callerId: "", prompt: "", firstMessage: "" };

/** The request body: empty optional fields are left out so the server's defaults apply. */
export function toRequest(f: Form): NewCall {
  const body: NewCall = { to: f.to.trim() };
  if (f.name.trim()) body.name = f.name.trim();
  if (f.callerId) body.callerId = f.callerId;
  if (f.prompt.trim()) body.prompt = f.prompt.trim();
  if (f.firstMessage.trim()) body.firstMessage = f.firstMessage.trim();
  return body;
}


/**
 * Plain-chat customers' ratings (issue 12): after a served chat ends, the notifier asks the customer for
 * a number from 1 to 5; its next message, to the component or to a queue, may be the answer.
 */
import type { Addr, HandlerDeps } from "./context.js";
import * as st from "./stanzas.js";

/** The question, sent after the closing message from the same address (the component's domain). */
export const RATING_QUESTION = "How would you rate this chat? Reply with a number from 1 (poor) to 5 (excellent), optionally followed by a comment.";
export const RATING_THANKS = "Thank you for your rating.";
export const ALREADY_RATED = "This chat has already been rated. Thank you!";

export function ratingHandler({ cti, send }: Pick<HandlerDeps, "cti" | "send">) {
  /**
   * A customer's chat message (its trimmed body) that may answer the rating question: stored as the
   * session's feedback and thanked from `from` (the address it wrote to). False when it is no rating, and
   * the message goes on as any other; the pending rating is gone either way, so it catches nothing later.
   */
  return async function answered(body: string, addr: Addr, from: string): Promise<boolean> {
    const result = await cti.answerRating(addr.from, body);
    if (result === "none") return false;
    await send(st.text(from, addr.from, result === "rated" ? RATING_THANKS : ALREADY_RATED));
    return true;
  };
}

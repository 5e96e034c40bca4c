/** The recovered messages of a RecoveredState as a list of copies (the store's forEach reuses one object). */
import type { RecoveredMessage, RecoveredState } from "../../src/store.js";

export function recoveredList(state: RecoveredState): RecoveredMessage[] {
  const list: RecoveredMessage[] = [];
  state.messages.forEach((m) => {
    list.push({ ...m });
  });
  return list;
}

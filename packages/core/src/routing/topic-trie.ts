/**
 * A trie of topic binding patterns and the matcher that walks it.
 *
 * Words are what lies between dots: "a..b" has the words "a", "", "b"; "" has no words at all (as in
 * RabbitMQ, so the empty key matches the patterns "" and "#" but not "*"). In a pattern, a word that is
 * exactly "*" matches one word and a word that is exactly "#" matches zero or more words; "a*" or "#b"
 * are plain words.
 *
 * Matching runs the trie as an NFA: it keeps the set of nodes the words so far can have reached and
 * advances it one word at a time. A node reached through a '#' edge stays in the set on every word (the
 * '#' swallows it), and entering a node also enters its '#' child (the '#' swallows nothing). The cost
 * is O(words x live nodes), never exponential in the number of '#'s, and does not grow with bindings
 * that share no prefix with the key. Deduplication within a step uses an epoch stamp on each node, so a
 * route allocates only the word substrings; the two state arrays are reused.
 *
 * It does not cache (the TopicRouter does), and it does not know about binding arguments.
 *
 * Buffers: none.
 */
import { assert } from "../errors.js";

/** Splits a routing key or a pattern into words, the way RabbitMQ does: "" has zero words. */
export function splitTopicWords(key: string): string[] {
  return key === "" ? [] : key.split(".");
}

class TopicNode<D> {
  /** Literal-word edges. Never holds the keys "*" or "#": those are the two fields below. */
  children: Map<string, TopicNode<D>> | undefined = undefined;
  star: TopicNode<D> | undefined = undefined;
  hash: TopicNode<D> | undefined = undefined;
  destinations: Set<D> | undefined = undefined;
  /** Last matcher step that put this node in a state set. */
  epoch = 0;

  constructor(
    readonly parent: TopicNode<D> | undefined,
    readonly word: string,
    /** Reached through a '#' edge, so it keeps itself alive across words. */
    readonly isHash: boolean,
  ) {}

  isEmpty(): boolean {
    return (
      this.destinations === undefined &&
      this.children === undefined &&
      this.star === undefined &&
      this.hash === undefined
    );
  }
}

export class TopicTrie<D> {
  private readonly root = new TopicNode<D>(undefined, "", false);
  private epoch = 0;
  private current: TopicNode<D>[] = [];
  private next: TopicNode<D>[] = [];
  private nodes = 1;

  /** Number of trie nodes, root included; a measure of memory use. */
  get nodeCount(): number {
    return this.nodes;
  }

  /** Returns false if `destination` was already bound with `pattern`. */
  add(pattern: string, destination: D): boolean {
    let node = this.root;
    for (const word of splitTopicWords(pattern)) node = this.childFor(node, word);
    if (node.destinations === undefined) node.destinations = new Set();
    else if (node.destinations.has(destination)) return false;
    node.destinations.add(destination);
    return true;
  }

  /** Returns false if `destination` was not bound with `pattern`. Prunes nodes left empty. */
  remove(pattern: string, destination: D): boolean {
    let node: TopicNode<D> | undefined = this.root;
    for (const word of splitTopicWords(pattern)) {
      node = edge(node, word);
      if (node === undefined) return false;
    }
    if (node.destinations?.delete(destination) !== true) return false;
    if (node.destinations.size === 0) node.destinations = undefined;
    this.prune(node);
    return true;
  }

  /** Adds the destinations of every pattern that matches `routingKey` to `out`. */
  match(routingKey: string, out: Set<D>): void {
    let current = this.current;
    let next = this.next;
    let count = this.enter(this.root, current, 0, ++this.epoch);
    // Walk the words in place rather than split(): no array per route.
    let from = 0;
    while (routingKey !== "" && count > 0) {
      const dot = routingKey.indexOf(".", from);
      const word = dot < 0 ? routingKey.slice(from) : routingKey.slice(from, dot);
      count = this.step(current, count, word, next);
      const swap = current;
      current = next;
      next = swap;
      if (dot < 0) break;
      from = dot + 1;
    }
    // A walk that died early (count 0) matches nothing, however many words were left.
    for (let i = 0; i < count; i++) {
      const destinations = (current[i] as TopicNode<D>).destinations;
      if (destinations === undefined) continue;
      for (const destination of destinations) out.add(destination);
    }
    this.current = current;
    this.next = next;
  }

  /** Advances `count` states of `current` over one word into `next`; returns how many it put there. */
  private step(current: TopicNode<D>[], count: number, word: string, next: TopicNode<D>[]): number {
    const epoch = ++this.epoch;
    let nextCount = 0;
    for (let i = 0; i < count; i++) {
      const node = current[i] as TopicNode<D>;
      if (node.isHash) nextCount = this.enter(node, next, nextCount, epoch);
      const literal = node.children?.get(word);
      if (literal !== undefined) nextCount = this.enter(literal, next, nextCount, epoch);
      if (node.star !== undefined) nextCount = this.enter(node.star, next, nextCount, epoch);
    }
    return nextCount;
  }

  /**
   * Puts `node` and the chain of '#' children below it (each may match zero words) into `states` from
   * index `count`; returns the new count. The arrays are reused and only ever overwritten, never
   * truncated: setting `length = 0` made V8 drop and regrow their backing stores on every route. Stale
   * entries past the count keep at most a few pruned nodes alive until they are overwritten.
   */
  private enter(node: TopicNode<D>, states: TopicNode<D>[], count: number, epoch: number): number {
    let at: TopicNode<D> | undefined = node;
    // A node already stamped in this step has had its '#' chain entered too, so stop there.
    while (at !== undefined && at.epoch !== epoch) {
      at.epoch = epoch;
      states[count++] = at;
      at = at.hash;
    }
    return count;
  }

  private childFor(node: TopicNode<D>, word: string): TopicNode<D> {
    const existing = edge(node, word);
    if (existing !== undefined) return existing;
    const child = new TopicNode<D>(node, word, word === "#");
    if (word === "*") node.star = child;
    else if (word === "#") node.hash = child;
    else {
      if (node.children === undefined) node.children = new Map();
      node.children.set(word, child);
    }
    this.nodes++;
    return child;
  }

  private prune(node: TopicNode<D>): void {
    let at = node;
    while (at.parent !== undefined && at.isEmpty()) {
      const parent: TopicNode<D> = at.parent;
      if (at.word === "*") parent.star = undefined;
      else if (at.word === "#") parent.hash = undefined;
      else {
        assert(parent.children?.delete(at.word) === true, "topic trie node missing from its parent");
        if (parent.children.size === 0) parent.children = undefined;
      }
      this.nodes--;
      at = parent;
    }
  }
}

function edge<D>(node: TopicNode<D>, word: string): TopicNode<D> | undefined {
  if (word === "*") return node.star;
  if (word === "#") return node.hash;
  return node.children?.get(word);
}

/**
 * Decodes the credentials of connection.start-ok for the mechanisms the server offers: PLAIN
 * (RFC 4616: authzid NUL authcid NUL password) and AMQPLAIN (a field table with LOGIN and PASSWORD,
 * sent without its length prefix).
 */
import { Buffer } from "node:buffer";
import { protocolError } from "../amqp-error.js";
import { decodeTable } from "../codec/index.js";

export const SUPPORTED_MECHANISMS = ["PLAIN", "AMQPLAIN"] as const;

export interface Credentials {
  username: string;
  password: string;
}

export function decodeCredentials(mechanism: string, response: Buffer): Credentials {
  if (mechanism === "PLAIN") {
    const parts = response.toString("utf8").split("\u0000");
    if (parts.length !== 3) throw protocolError(403, "malformed PLAIN response");
    return { username: parts[1] ?? "", password: parts[2] ?? "" };
  }
  if (mechanism === "AMQPLAIN") {
    const prefixed = Buffer.allocUnsafe(4 + response.length);
    prefixed.writeUInt32BE(response.length, 0);
    response.copy(prefixed, 4);
    const { table } = decodeTable(prefixed, 0);
    return { username: String(table.LOGIN ?? ""), password: String(table.PASSWORD ?? "") };
  }
  throw protocolError(403, `unsupported authentication mechanism '${mechanism}'`);
}

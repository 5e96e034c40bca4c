/**
 * The PropertiesCodec the core uses for what it stores or rewrites: wire bytes <-> properties, with
 * header tables turned into plain values for the core's decisions.
 */
import type { MessageProperties, PropertiesCodec } from "@leveret/core";
import { type BasicProperties, decodeBasicProperties, encodeBasicProperties } from "./codec/index.js";

export const basicPropertiesCodec: PropertiesCodec = {
  encode(properties: MessageProperties): Buffer {
    return encodeBasicProperties(properties as BasicProperties);
  },
  decode(raw: Buffer): MessageProperties {
    return decodeBasicProperties(raw) as MessageProperties;
  },
};

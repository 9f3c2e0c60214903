import type { FastifyReply } from 'fastify';

/**
 * Conan 1 compares Content-Type with `application/json` byte for byte, so JSON answers set
 * the header themselves and send bytes: Fastify appends `; charset=utf-8` to JSON types
 * whenever the payload is a string.
 */
export function sendJson(reply: FastifyReply, body: unknown, status = 200): FastifyReply {
  return reply
    .status(status)
    .header('content-type', 'application/json')
    .send(Buffer.from(JSON.stringify(body), 'utf8'));
}

/** Plain text: the token of `users/authenticate`, the `ok` of `check_credentials`. */
export function sendText(reply: FastifyReply, text: string): FastifyReply {
  return reply.status(200).header('content-type', 'text/plain').send(text);
}

/** What Conan's deletes need: 200 (204 makes both clients fail) with an empty body. */
export function sendEmpty(reply: FastifyReply, status = 200): FastifyReply {
  return reply.status(status).header('content-length', 0).send();
}

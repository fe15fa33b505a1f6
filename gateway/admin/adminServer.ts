/**
 * The admin API at `/admin/graphql`: a small Apollo Server over the tenancy
 * service, authenticated by the gateway's own authenticator. It is not part of
 * the federated graph: sandboxes and keys are platform data, owned by the
 * gateway, like the authentication that depends on them.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { RequestLimits } from '../../lib/config.js';
import { DomainError, formatGraphQLError } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import { handleGraphQLRequest } from '../../lib/subgraph/http.js';
import type { TenancyService } from '../../lib/tenancy/tenancy.service.js';
import type { RateLimiter } from '../../lib/tenancy/rateLimiter.js';
import { chargeRequest, refusalBody, refusalHeaders, refusalStatus, type Authenticator } from '../authenticate.js';
import { documentLimitError } from '../limits/documentLimitError.js';
import { adminResolvers, type AdminContext } from './resolvers.js';

export const ADMIN_PATH = '/admin/graphql';
const typeDefs = readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8');

export interface AdminEndpoint {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  stop(): Promise<void>;
}

export async function startAdminEndpoint(options: {
  tenancy: TenancyService;
  authenticator: Authenticator;
  /** The same per-key budget as /graphql. */
  rateLimiter?: RateLimiter;
  logger: Logger;
  introspection: boolean;
  /** The same body, list, token, depth, alias and cost limits as /graphql. */
  limits: RequestLimits;
}): Promise<AdminEndpoint> {
  const logger = options.logger.child({ component: 'admin-api' });
  const { limits } = options;
  const schema = makeExecutableSchema({ typeDefs, resolvers: adminResolvers });
  const apollo = new ApolloServer<AdminContext>({
    schema,
    introspection: options.introspection,
    includeStacktraceInErrorResponses: false,
    formatError: (formatted, error) =>
      formatGraphQLError(formatted, error, (internal) => logger.error({ err: internal }, 'Internal error in the admin API')),
  });
  await apollo.start();

  return {
    async handle(req, res) {
      let principal;
      try {
        ({ principal } = await options.authenticator.authenticate(req.headers, { address: req.socket.remoteAddress }));
        await chargeRequest(options.rateLimiter, principal);
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        res.writeHead(refusalStatus(error), refusalHeaders(error));
        res.end(refusalBody(error));
        return;
      }
      await handleGraphQLRequest(apollo, req, res, {
        bodyLimitBytes: limits.maxBodyBytes,
        maxListLength: limits.maxListLength,
        checkRequest: (request) => documentLimitError(schema, request, limits),
        context: async () => ({ principal, tenancy: options.tenancy }),
      });
    },
    stop: () => apollo.stop(),
  };
}

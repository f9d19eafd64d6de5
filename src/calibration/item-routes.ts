// Item routes: the bank with each item's current parameters (paged), and the parameter history of an
// item across calibration runs.
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { requireScope } from '../api/auth.js';
import { ApiError } from '../api/errors.js';
import type { RouteDeps } from '../api/route-deps.js';
import { Id, BEARER as security } from '../api/schemas.js';
import { itemParamHistory, itemsPage, itemTopic } from './repository.js';

const ParamsRow = Type.Object({
  version: Type.String({ description: 'the calibration run id' }),
  model: Type.String(),
  params: Type.Object(
    {
      a: Type.Number(),
      b: Type.Number(),
      c: Type.Number(),
      d: Type.Number(),
      n: Type.Optional(Type.Integer({ description: 'responses used' })),
      p: Type.Optional(Type.Number({ description: 'proportion correct' })),
      se: Type.Optional(Type.Record(Type.String(), Type.Number())),
    },
    { additionalProperties: true },
  ),
  current: Type.Boolean({ description: 'these are the parameters the online update uses' }),
  fitted_at: Type.String({ format: 'date-time' }),
});

const ItemSummary = Type.Object({
  item_id: Type.String(),
  topic_id: Type.String(),
  tags: Type.Array(Type.String()),
  current: Type.Union([Type.Omit(ParamsRow, ['current']), Type.Null()], {
    description: 'the parameters the online update uses; null before any calibration included the item',
  }),
});

const ItemsPage = Type.Object({
  items: Type.Array(ItemSummary),
  next_after: Type.Union([Type.String(), Type.Null()], {
    description: 'pass as `after` for the next page; null on the last page',
  }),
});

export const itemRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { database }) => {
  app.get(
    '/items',
    {
      preHandler: requireScope('reports:view', 'analysis:run'),
      schema: {
        tags: ['items'],
        summary: 'The item bank with current parameters, by item id, paged',
        security,
        querystring: Type.Object(
          {
            limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
            after: Type.Optional(Id('the last item_id of the previous page (next_after)')),
            topic_id: Type.Optional(Id('only the items of this topic')),
          },
          { additionalProperties: false },
        ),
        response: { 200: ItemsPage },
      },
    },
    async (request) => {
      const { limit, after, topic_id: topicId } = request.query;
      const {
        items,
        current: byItem,
        more,
      } = await itemsPage(database.db, {
        limit,
        ...(after !== undefined && { after }),
        ...(topicId !== undefined && { topicId }),
      });
      return {
        items: items.map((i) => {
          const c = byItem.get(i.item_id);
          return {
            item_id: i.item_id,
            topic_id: i.topic_id,
            tags: i.tags,
            current: c
              ? {
                  version: c.version,
                  model: c.model,
                  params: c.params,
                  fitted_at: new Date(c.fitted_at).toISOString(),
                }
              : null,
          };
        }),
        next_after: more ? items[items.length - 1]!.item_id : null,
      };
    },
  );

  app.get(
    '/items/:item_id/params',
    {
      preHandler: requireScope('reports:view', 'analysis:run'),
      schema: {
        tags: ['items'],
        summary: 'Parameter history of an item (one row per succeeded calibration run), newest first',
        security,
        params: Type.Object({ item_id: Id('the item') }, { additionalProperties: false }),
        querystring: Type.Object(
          { limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            item_id: Type.String(),
            topic_id: Type.String(),
            history: Type.Array(ParamsRow),
          }),
        },
      },
    },
    async (request) => {
      const { item_id: itemId } = request.params;
      const topicId = await itemTopic(database.db, itemId);
      if (topicId === undefined) throw new ApiError('ITEM_NOT_FOUND', `no item ${itemId}`);
      const rows = await itemParamHistory(database.db, itemId, request.query.limit);
      return {
        item_id: itemId,
        topic_id: topicId,
        history: rows.map((r) => ({
          version: r.version,
          model: r.model,
          params: r.params,
          current: r.current_version !== null,
          fitted_at: r.fitted_at.toISOString(),
        })),
      };
    },
  );
};

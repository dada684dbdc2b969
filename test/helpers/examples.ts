/**
 * Promise forms of the confirmed-example calls (the warm path) over a generated CatalogService
 * client, shared by the examples suites of both stores and the adaptation suite.
 */
import {
  AddExamplesRequest,
  type AddExamplesResponse,
  type CatalogServiceClient,
  ConfirmMatchRequest,
  type ConfirmMatchResponse,
  DeleteExampleRequest,
  type DeleteExampleResponse,
  ListExamplesRequest,
  type ListExamplesResponse,
  StartAdaptationRequest,
  type StartAdaptationResponse,
} from '../../src/gen/twinlens/v1/twinlens.js';
import { call } from './server.js';

/** Streams `examples` through one AddExamples call and resolves with its response. */
export function addExamples(client: CatalogServiceClient, examples: Partial<AddExamplesRequest>[]): Promise<AddExamplesResponse> {
  return new Promise((resolve, reject) => {
    const stream = client.addExamples((e, r) => (e ? reject(e) : resolve(r)));
    for (const ex of examples) stream.write(AddExamplesRequest.fromPartial(ex));
    stream.end();
  });
}

export const listExamples = (c: CatalogServiceClient, req: Partial<ListExamplesRequest>): Promise<ListExamplesResponse> =>
  call(c.listExamples.bind(c), ListExamplesRequest.fromPartial(req));

export const deleteExample = (c: CatalogServiceClient, exampleId: string): Promise<DeleteExampleResponse> =>
  call(c.deleteExample.bind(c), DeleteExampleRequest.fromPartial({ exampleId }));

export const confirmMatch = (c: CatalogServiceClient, req: Partial<ConfirmMatchRequest>): Promise<ConfirmMatchResponse> =>
  call(c.confirmMatch.bind(c), ConfirmMatchRequest.fromPartial(req));

export const startAdaptation = (c: CatalogServiceClient, req: Partial<StartAdaptationRequest> = {}): Promise<StartAdaptationResponse> =>
  call(c.startAdaptation.bind(c), StartAdaptationRequest.fromPartial(req));

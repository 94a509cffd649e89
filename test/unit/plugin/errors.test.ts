import { describe, expect, it } from '@jest/globals';
import { PluginError, describeError, isTransient } from '../../../src/plugin/errors.js';

const apiError = (code: number, body: unknown) => Object.assign(new Error(`HTTP-Code: ${code}`), { code, body });

describe('describeError', () => {
  const target = { namespace: 'bookinfo', name: 'reviews', action: 'promote' };

  it('turns a 404 into "canaryrelease X not found in namespace Y"', () => {
    expect(describeError(apiError(404, '{"kind":"Status","reason":"NotFound"}'), target)).toBe('canaryrelease reviews not found in namespace bookinfo');
    expect(describeError(apiError(404, { kind: 'Status', reason: 'NotFound' }), target)).toBe('canaryrelease reviews not found in namespace bookinfo');
  });

  it('recognises a missing CRD by the plain-text 404', () => {
    expect(describeError(apiError(404, '404 page not found'), target)).toContain('is the canary-operator CRD installed?');
  });

  it('keeps the server\'s message for other API errors', () => {
    expect(describeError(apiError(422, '{"message":"spec.paused: Invalid value"}'), target))
      .toBe('promote canaryrelease reviews in namespace bookinfo: 422: spec.paused: Invalid value');
    expect(describeError(apiError(401, undefined), target)).toBe('promote canaryrelease reviews in namespace bookinfo: unauthorized (401): check the credentials in your kubeconfig');
    expect(describeError(apiError(500, 'etcd down'), { namespace: undefined })).toBe('canaryreleases: 500: etcd down');
  });

  it('says when the API server cannot be reached', () => {
    const err = Object.assign(new Error('request failed'), { cause: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:6443' } });
    expect(describeError(err, target)).toBe('promote canaryrelease reviews in namespace bookinfo: cannot reach the Kubernetes API server (ECONNREFUSED): connect ECONNREFUSED 127.0.0.1:6443');
  });

  it('passes plugin errors through as they are', () => {
    expect(describeError(new PluginError('context "x" not found in the kubeconfig'), target)).toBe('context "x" not found in the kubeconfig');
  });

  it('retries only what may pass: network, 429 and 5xx', () => {
    expect(isTransient(new Error('socket hang up'))).toBe(true);
    expect(isTransient(apiError(503, ''))).toBe(true);
    expect(isTransient(apiError(429, ''))).toBe(true);
    expect(isTransient(apiError(404, ''))).toBe(false);
    expect(isTransient(apiError(403, ''))).toBe(false);
    expect(isTransient(new PluginError('x'))).toBe(false);
  });
});

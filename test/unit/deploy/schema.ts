// Validation of generated manifests against the Kubernetes API schemas (kubernetes-models and the
// Prometheus Operator's models), plus the strict check those schemas lack: their validators accept
// unknown keys, so a misspelled field (`readOnlyRootFileSystem`) would pass and be dropped by the
// API server. The strict check watches which keys the schema validator reads: a validator compiled
// from a JSON schema reads every property the schema declares (and every key of a free-form map),
// so a key it never reads is one the schema does not know.
import {
  PodMonitor,
  PrometheusRule,
  ServiceMonitor,
} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { CronJob, Job } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Service, ServiceAccount } from 'kubernetes-models/v1';

interface ModelClass {
  apiVersion: string;
  kind: string;
  prototype: { validate(): void };
}

const MODELS: readonly ModelClass[] = [
  Namespace,
  ServiceAccount,
  ConfigMap,
  Service,
  Deployment,
  CronJob,
  Job,
  PodDisruptionBudget,
  ServiceMonitor,
  PodMonitor,
  PrometheusRule,
];

export function modelFor(obj: { apiVersion?: unknown; kind?: unknown }): ModelClass {
  const model = MODELS.find((m) => m.apiVersion === obj.apiVersion && m.kind === obj.kind);
  if (!model) throw new Error(`no schema model for ${String(obj.apiVersion)} ${String(obj.kind)}`);
  return model;
}

/** Throws the schema's validation error, if any. */
export function validateSchema(obj: { apiVersion?: unknown; kind?: unknown }): void {
  modelFor(obj).prototype.validate.call(obj);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** The paths (JSON pointer) of the keys of `obj` that its schema does not declare. */
export function unknownFields(obj: { apiVersion?: unknown; kind?: unknown }): string[] {
  const read = new WeakMap<object, Set<PropertyKey>>();
  const proxies = new WeakMap<object, object>();
  const watch = (value: unknown): unknown => {
    if (value === null || typeof value !== 'object') return value;
    let proxy = proxies.get(value);
    if (!proxy) {
      const keys = new Set<PropertyKey>();
      read.set(value, keys);
      proxy = new Proxy(value, {
        get(target, key, receiver) {
          keys.add(key);
          return watch(Reflect.get(target, key, receiver));
        },
      });
      proxies.set(value, proxy);
    }
    return proxy;
  };
  // Errors are validateSchema's business; only the reads matter here.
  try {
    modelFor(obj).prototype.validate.call(watch(obj));
  } catch {}
  const unknown: string[] = [];
  const walk = (value: unknown, path: string): void => {
    if (Array.isArray(value)) {
      value.forEach((v, i) => {
        walk(v, `${path}/${i}`);
      });
    } else if (isObject(value)) {
      const keys = read.get(value);
      for (const [k, v] of Object.entries(value)) {
        if (!keys?.has(k)) unknown.push(`${path}/${k}`);
        else walk(v, `${path}/${k}`);
      }
    }
  };
  walk(obj, '');
  return unknown;
}

import {
  admissionReview,
  driftOf,
  handleReview,
  parseAdmissionReview,
  type AdmissionDeps,
  type AdmissionRequest,
  type AdmissionResponse,
  type Judged,
  type ReviewEndpoint,
  type ReviewOutcome,
} from "../admission/index.ts";
import { andThen, type AtOnce } from "../at-once.ts";
import { withoutRedaction, type Logger, type Metrics } from "../observability/index.ts";

/** An HTTP answer, framework-free: the server writes it as JSON. */
export interface HttpAnswer {
  readonly status: number;
  readonly body: object;
  /** `body` as JSON, when it was encoded already. */
  readonly json?: string;
}

export interface EndpointDeps extends AdmissionDeps {
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Told about every judged review (e.g. to record drift Events); must not throw. */
  readonly onJudged?: (request: AdmissionRequest, judged: readonly Judged[]) => void;
}

/**
 * One POST to /mutate or /validate: a body that is not an AdmissionReview is a 400; a review
 * always gets a review back with its uid, even when handling it fails (then denied: fail closed).
 * The answer comes at once, not as a promise, when the review waited on nothing (see
 * judgeImages): the warm review.
 */
export function answerReview(
  endpoint: ReviewEndpoint,
  body: unknown,
  deps: EndpointDeps,
): AtOnce<HttpAnswer> {
  const started = performance.now();
  const parsed = parseAdmissionReview(body);
  if (!parsed.ok) return { status: 400, body: { error: parsed.error } };
  const { request } = parsed;
  const failed = (error: unknown): HttpAnswer => {
    deps.logger.error({ err: error, uid: request.uid }, "admission review failed");
    const message =
      "digestpin failed to review this request; it is denied (see the webhook's logs)";
    const response: AdmissionResponse = {
      uid: request.uid,
      allowed: false,
      status: { code: 500, reason: "InternalError", message },
    };
    return answered(endpoint, request, response, [], undefined, started, deps);
  };
  const handled = (outcome: ReviewOutcome): HttpAnswer => {
    try {
      deps.onJudged?.(request, outcome.judged);
      for (const { decision } of outcome.judged) {
        deps.metrics.images.labels(endpoint, decision.action, decision.reason).inc();
        const drift = driftOf(decision);
        if (drift !== undefined) deps.metrics.drift.labels(drift.action).inc();
      }
    } catch (error) {
      return failed(error);
    }
    const { response, judged, json } = outcome;
    return answered(endpoint, request, response, judged, json, started, deps);
  };
  let outcome: AtOnce<ReviewOutcome>;
  try {
    outcome = handleReview(endpoint, request, deps);
  } catch (error) {
    return failed(error);
  }
  return andThen(outcome, handled, failed);
}

/** The review's answer, counted and (denials, warnings, failures at info) logged. */
function answered(
  endpoint: ReviewEndpoint,
  request: AdmissionRequest,
  response: AdmissionResponse,
  judged: readonly Judged[],
  json: string | undefined,
  started: number,
  deps: EndpointDeps,
): HttpAnswer {
  const seconds = (performance.now() - started) / 1000;
  const decision = response.allowed
    ? response.patch === undefined
      ? "allowed"
      : "mutated"
    : "denied";
  deps.metrics.reviews.labels(endpoint, request.operation, decision).inc();
  deps.metrics.reviewDuration.labels(endpoint).observe(seconds);
  // Admitted reviews are logged at debug, so a busy cluster's admissions cost no log line;
  // denials, admissions that warn or audit mode let in, and failures are logged at info.
  const level =
    response.allowed && response.auditAnnotations?.["would-deny"] === undefined ? "debug" : "info";
  if (deps.logger.isLevelEnabled(level)) {
    // Only plain fields below (no objects that could carry a credential): no redaction needed.
    withoutRedaction(deps.logger)[level](
      {
        uid: request.uid,
        endpoint,
        namespace: request.namespace,
        kind: request.kind.kind,
        name: request.name,
        operation: request.operation,
        dryRun: request.dryRun,
        decision,
        images: judged.map((j) => `${j.slot.place}=${j.decision.action}/${j.decision.reason}`),
        durationMs: Math.round(seconds * 1e4) / 10,
      },
      "admission review",
    );
  }
  const review = admissionReview(response);
  return json === undefined ? { status: 200, body: review } : { status: 200, body: review, json };
}

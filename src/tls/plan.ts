import { createCertificateAuthority, createServingCertificate } from "./certificates.ts";
import { servingCertificate, type ServingCertificate } from "./material.ts";
import { analyze, type RotationPolicy, type TlsAnalysis, type TlsSecretData } from "./rotation.ts";

const DAY_MS = 86_400_000;

/** Who the certificates are for, and when "now" is. */
export interface PlanContext {
  /** subjectAltNames of the serving certificate; the first is also its common name. */
  readonly hosts: readonly string[];
  readonly now: Date;
  readonly policy: RotationPolicy;
}

/** New Secret contents, and why. */
export interface Step {
  readonly data: TlsSecretData;
  readonly reason: string;
}

/** A CA and a serving certificate signed by it, for a Secret that does not exist yet. */
export function initialData(context: PlanContext): TlsSecretData {
  const ca = newCa(context);
  return issueLeaf({ caBundle: ca.cert, caKey: ca.key, cert: "", key: "" }, context);
}

/**
 * The CA half of a renewal, decided before the caBundle is published: a new signing CA when
 * the current one is missing, broken or due (the CAs still valid stay in the bundle behind it,
 * so the certificate served now stays trusted), or a bundle without the previous CAs once the
 * serving certificate moved to the signing CA more than `overlapMs` ago.
 */
export function planCa(data: TlsSecretData, context: PlanContext): Step | undefined {
  const { now, policy } = context;
  const facts = analyze(data, context.hosts, now, policy);
  const { signer, leaf } = facts;
  if (signer === undefined || now >= signer.renewAt) {
    const ca = newCa(context);
    const kept = [...(signer === undefined ? [] : [signer]), ...facts.others];
    return {
      data: { ...data, caBundle: [ca.cert, ...kept.map((c) => c.pem)].join(""), caKey: ca.key },
      reason:
        signer === undefined ? `new CA: ${facts.signerProblem ?? ""}` : "the CA is due for renewal",
    };
  }
  const settled =
    leaf?.bySigner === true && now.getTime() >= leaf.issuedAt.getTime() + policy.overlapMs;
  const bundle = [signer, ...(settled ? [] : facts.others)].map((c) => c.pem).join("");
  if (bundle === data.caBundle) return undefined;
  return {
    data: { ...data, caBundle: bundle },
    reason: "the CA bundle drops CAs no longer needed",
  };
}

/**
 * The serving-certificate half, decided after the caBundle is published: issue a new one now
 * when there is none that can be served; otherwise when it is due, or when another CA than the
 * signing one signed it, and the signing CA has been published for `propagationMs`
 * (`bundlePublished`: every webhook configuration already carried this bundle).
 */
export function planLeaf(
  data: TlsSecretData,
  context: PlanContext & { readonly bundlePublished: boolean },
): Step | undefined {
  const { now, policy } = context;
  const { signer, leaf, leafProblem } = analyze(data, context.hosts, now, policy);
  if (signer === undefined) return undefined; // planCa comes first
  if (leaf === undefined) return { data: issueLeaf(data, context), reason: leafProblem ?? "" };
  if (!leaf.bySigner) {
    const published = now.getTime() >= signer.issuedAt.getTime() + policy.propagationMs;
    if (!(published && context.bundlePublished)) return undefined;
    return {
      data: issueLeaf(data, context),
      reason: "the serving certificate moves to the new CA",
    };
  }
  if (now >= leaf.renewAt) {
    return { data: issueLeaf(data, context), reason: "the serving certificate is due for renewal" };
  }
  return undefined;
}

/** When the plan may next have something to do (for the renewal timer). */
export function nextCheck(data: TlsSecretData, context: PlanContext): Date | undefined {
  const facts: TlsAnalysis = analyze(data, context.hosts, context.now, context.policy);
  const { signer, leaf, others } = facts;
  const times: number[] = [];
  if (signer !== undefined) times.push(signer.renewAt.getTime());
  if (leaf !== undefined) times.push(leaf.renewAt.getTime());
  if (signer !== undefined && leaf?.bySigner === false) {
    times.push(signer.issuedAt.getTime() + context.policy.propagationMs);
  }
  if (others.length > 0) {
    if (leaf?.bySigner === true) times.push(leaf.issuedAt.getTime() + context.policy.overlapMs);
    times.push(...others.map((ca) => ca.cert.validToDate.getTime()));
  }
  return times.length === 0 ? undefined : new Date(Math.min(...times));
}

/** The serving certificate the Secret holds, when it can be served (trusted by its bundle). */
export function servable(
  data: TlsSecretData,
  context: PlanContext,
): ServingCertificate | undefined {
  const { leaf } = analyze(data, context.hosts, context.now, context.policy);
  return leaf === undefined ? undefined : servingCertificate(data.cert, data.key, data.caBundle);
}

function newCa(context: PlanContext): { cert: string; key: string } {
  return createCertificateAuthority({
    commonName: `${context.hosts[0] ?? "digestpin"} CA`.slice(-64),
    validDays: context.policy.caDays,
    now: context.now,
  });
}

/** `data` with a new serving certificate from its signing CA, never outliving the CA. */
function issueLeaf(data: TlsSecretData, context: PlanContext): TlsSecretData {
  const { now, policy, hosts } = context;
  const ca = { cert: data.caBundle, key: data.caKey };
  const caNotAfter = analyze(data, hosts, now, policy).signer?.cert.validToDate;
  const caDaysLeft =
    caNotAfter === undefined
      ? policy.certificateDays
      : (caNotAfter.getTime() - now.getTime()) / DAY_MS;
  const leaf = createServingCertificate(ca, {
    commonName: hosts[0] ?? "digestpin",
    hosts,
    validDays: Math.min(policy.certificateDays, caDaysLeft),
    now,
  });
  return { ...data, cert: leaf.cert, key: leaf.key };
}

#!/usr/bin/env node
// An independent OCPP 1.6J charge point for smartcharge's interoperability test: ocpp-rpc in strict mode,
// which validates every CALL and CALLRESULT, in both directions, against the OCPP 1.6 JSON schemas.
//
//   node charge_point.js ENDPOINT IDENTITY [PASSWORD]      (ENDPOINT: ws://127.0.0.1:PORT/ocpp)
//
// Driven over stdin/stdout, one JSON object a line:
//   in:  {"id": 1, "call": "BootNotification", "params": {...}}    → out: {"event": "result", "id": 1, "result": {...}}
//                                                                     or  {"event": "error", "id": 1, "code", "message"}
//   out: {"event": "received", "method", "params", "result"}   each central-system CALL and the answer given
//        {"event": "triggered", "method", "params", "result"}  the message sent after an accepted TriggerMessage
//        {"event": "violation", ...}                           a strict-mode schema failure or a bad RPC frame
// Closing stdin closes the connection. Exit status: 0 with no violation, 1 after any violation, 2 on a crash.

"use strict";

const readline = require("node:readline");
const { RPCClient, createValidator } = require("ocpp-rpc");
const OCPP16_SCHEMAS = require("ocpp-rpc/lib/schemas/ocpp1_6.json");

const [endpoint, identity, password] = process.argv.slice(2);
if (!endpoint || !identity) {
    process.stderr.write("usage: node charge_point.js ENDPOINT IDENTITY [PASSWORD]\n");
    process.exit(2);
}

let violations = 0;

// The package's OCPP 1.6 schemas, with one check made stricter: JSON Schema's `date-time` is RFC 3339's
// date-time, whose offset is required, but the ajv-formats 2 that ocpp-rpc uses accepts
// "2030-01-01T12:00:00" without one. Every date-time field also gets RFC 3339's pattern.
const RFC3339 = "^\\d{4}-\\d{2}-\\d{2}[Tt]\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?([Zz]|[+-]\\d{2}:\\d{2})$";

function withRfc3339(node) {
    if (Array.isArray(node)) {
        return node.map(withRfc3339);
    }
    if (node === null || typeof node !== "object") {
        return node;
    }
    const copy = Object.fromEntries(Object.entries(node).map(([key, value]) => [key, withRfc3339(value)]));
    if (copy.format === "date-time") {
        copy.pattern = RFC3339;
    }
    return copy;
}

const ocpp16 = createValidator("ocpp1.6", withRfc3339(OCPP16_SCHEMAS));

function emit(event) {
    process.stdout.write(`${JSON.stringify(event)}\n`);
}

function violation(kind, details) {
    violations += 1;
    const event = { event: "violation", kind, ...details };
    process.stderr.write(`OCPP 1.6 VIOLATION (${kind}): ${JSON.stringify(event)}\n`);
    emit(event);
}

// The charge point's state: what the central system can read and change.
const configuration = new Map([
    ["HeartbeatInterval", { value: "300", readonly: false }],
    ["MeterValueSampleInterval", { value: "60", readonly: false }],
    ["NumberOfConnectors", { value: "1", readonly: true }],
    [
        "SupportedFeatureProfiles",
        {
            value: "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger",
            readonly: true,
        },
    ],
    ["ChargeProfileMaxStackLevel", { value: "8", readonly: true }],
    ["ChargingScheduleAllowedChargingRateUnit", { value: "Current,Power", readonly: true }],
    ["ChargingScheduleMaxPeriods", { value: "24", readonly: true }],
    ["MaxChargingProfilesInstalled", { value: "10", readonly: true }],
    ["LocalAuthListEnabled", { value: "true", readonly: false }],
    ["LocalAuthListMaxLength", { value: "100", readonly: true }],
    ["SendLocalListMaxLength", { value: "100", readonly: true }],
]);
let localListVersion = 0;
const profiles = new Map(); // chargingProfileId → {connectorId, profile}: those installed

function configurationAnswer(keys) {
    const wanted = keys && keys.length ? keys : [...configuration.keys()];
    const known = wanted.filter((key) => configuration.has(key));
    const answer = {
        configurationKey: known.map((key) => ({ key, readonly: configuration.get(key).readonly, value: configuration.get(key).value })),
    };
    const unknown = wanted.filter((key) => !configuration.has(key));
    if (unknown.length) {
        answer.unknownKey = unknown;
    }
    return answer;
}

// What a triggered message carries (OCPP 1.6 §5.17: the charge point sends it after its TriggerMessage.conf).
const TRIGGERED = {
    Heartbeat: () => ({}),
    StatusNotification: (connectorId) => ({ connectorId: connectorId ?? 0, errorCode: "NoError", status: "Available" }),
    DiagnosticsStatusNotification: () => ({ status: "Idle" }),
    FirmwareStatusNotification: () => ({ status: "Idle" }),
};

// One valid answer for each of the 19 operations a central system initiates in OCPP 1.6.
const ANSWERS = {
    CancelReservation: () => ({ status: "Accepted" }),
    ChangeAvailability: () => ({ status: "Accepted" }),
    ChangeConfiguration: ({ key, value }) => {
        const entry = configuration.get(key);
        if (!entry) {
            return { status: "NotSupported" };
        }
        if (entry.readonly) {
            return { status: "Rejected" };
        }
        entry.value = value;
        return { status: "Accepted" };
    },
    ClearCache: () => ({ status: "Accepted" }),
    ClearChargingProfile: (criteria) => {
        const matching = [...profiles].filter(([id, { connectorId, profile }]) =>
            (criteria.id === undefined || criteria.id === id)
            && (criteria.connectorId === undefined || criteria.connectorId === connectorId)
            && (criteria.chargingProfilePurpose === undefined || criteria.chargingProfilePurpose === profile.chargingProfilePurpose)
            && (criteria.stackLevel === undefined || criteria.stackLevel === profile.stackLevel));
        matching.forEach(([id]) => profiles.delete(id));
        return { status: matching.length ? "Accepted" : "Unknown" };
    },
    DataTransfer: ({ data }) => ({ status: "Accepted", data: `echo:${data ?? ""}` }),
    GetCompositeSchedule: ({ connectorId, duration }) => {
        // the schedule of the last TxProfile (else TxDefaultProfile) installed for the connector, as it is
        const installed = [...profiles.values()].filter((p) => p.connectorId === connectorId || p.connectorId === 0);
        const last = installed.filter((p) => p.profile.chargingProfilePurpose === "TxProfile").at(-1) ?? installed.at(-1);
        if (!last) {
            return { status: "Rejected" };
        }
        const schedule = last.profile.chargingSchedule;
        return {
            status: "Accepted",
            connectorId,
            scheduleStart: schedule.startSchedule ?? new Date().toISOString(),
            chargingSchedule: { ...schedule, duration: schedule.duration ?? duration },
        };
    },
    GetConfiguration: ({ key }) => configurationAnswer(key),
    GetDiagnostics: () => ({ fileName: `diagnostics-${identity}.tar.gz` }),
    GetLocalListVersion: () => ({ listVersion: localListVersion }),
    RemoteStartTransaction: () => ({ status: "Accepted" }),
    RemoteStopTransaction: () => ({ status: "Accepted" }),
    ReserveNow: () => ({ status: "Accepted" }),
    Reset: () => ({ status: "Accepted" }),
    SendLocalList: ({ listVersion }) => {
        localListVersion = listVersion;
        return { status: "Accepted" };
    },
    SetChargingProfile: ({ connectorId, csChargingProfiles }) => {
        profiles.delete(csChargingProfiles.chargingProfileId);
        profiles.set(csChargingProfiles.chargingProfileId, { connectorId, profile: csChargingProfiles });
        return { status: "Accepted" };
    },
    TriggerMessage: ({ requestedMessage }) => ({ status: requestedMessage in TRIGGERED ? "Accepted" : "NotImplemented" }),
    UnlockConnector: () => ({ status: "Unlocked" }),
    UpdateFirmware: () => ({}),
};

const client = new RPCClient({
    endpoint,
    identity,
    password,
    protocols: ["ocpp1.6"],
    strictMode: true,
    strictModeValidators: [ocpp16], // replaces the package's own ocpp1.6 validator
    reconnect: false,
    callTimeoutMs: 30000,
});

client.on("strictValidationFailure", ({ method, params, result, error, outbound, isCall }) => {
    violation("schema", {
        method,
        direction: outbound ? "charge point → central system" : "central system → charge point",
        message: isCall ? "CALL" : "CALLRESULT",
        params,
        result,
        error: error.message,
    });
});
client.on("badMessage", ({ buffer, error }) => {
    violation("rpc", { frame: buffer.toString(), error: error.message });
});
client.on("protocol", (protocol) => {
    if (protocol !== "ocpp1.6") {
        violation("subprotocol", { error: `agreed subprotocol ${protocol}, not ocpp1.6` });
    }
});

for (const [method, answer] of Object.entries(ANSWERS)) {
    client.handle(method, ({ params }) => {
        const result = answer(params);
        emit({ event: "received", method, params, result });
        if (method === "TriggerMessage" && result.status === "Accepted") {
            // after the CALLRESULT has gone out (a macrotask runs after the reply's microtasks)
            setTimeout(() => trigger(params.requestedMessage, params.connectorId), 0);
        }
        return result;
    });
}
client.handle(({ method, params }) => {
    violation("unexpected", { method, params, error: `${method} is not a central-system operation of OCPP 1.6` });
    throw Object.assign(new Error(`${method} not implemented`), { rpcErrorCode: "NotImplemented" });
});

async function trigger(method, connectorId) {
    const params = TRIGGERED[method](connectorId);
    try {
        emit({ event: "triggered", method, params, result: await client.call(method, params) });
    } catch (error) {
        emit({ event: "triggered", method, params, error: error.message, code: error.rpcErrorCode ?? null });
    }
}

async function serve(line) {
    const request = JSON.parse(line);
    try {
        const result = await client.call(request.call, request.params ?? {});
        emit({ event: "result", id: request.id, result });
    } catch (error) {
        emit({ event: "error", id: request.id, code: error.rpcErrorCode ?? null, message: error.message });
    }
}

async function main() {
    client.on("close", ({ code, reason }) => emit({ event: "closed", code, reason: String(reason ?? "") }));
    await client.connect();
    emit({ event: "connected", protocol: client.protocol });
    const pending = new Set();
    const lines = readline.createInterface({ input: process.stdin, terminal: false });
    for await (const line of lines) {
        if (line.trim()) {
            const task = serve(line).finally(() => pending.delete(task));
            pending.add(task);
        }
    }
    await Promise.all(pending);
    await client.close({ code: 1000, awaitPending: true });
    process.exitCode = violations ? 1 : 0;
}

main().catch((error) => {
    process.stderr.write(`charge point crashed: ${error.stack ?? error}\n`);
    emit({ event: "crashed", error: String(error.message ?? error) });
    process.exit(2);
});

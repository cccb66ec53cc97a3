// The `network` setting: where the API server is, and what user code may reach (networkAccess.ts).
import { DEFAULT_NETWORK_ACCESS, EgressPeer, NetworkAccessSettings } from "../components/parts/networkAccess";
import { configRm, configSet } from "../problem";
import { ConfigReader, Json } from "./reader";
import * as rules from "./rules";

// The API server's address is the cluster's to tell (kubectl get endpoints kubernetes): prompted for.
const API_FIX = configSet("network.apiServer.cidrs[0]");
const EGRESS_FIX = configSet("network.userCodeEgress[0].cidr", "0.0.0.0/0");

export class NetworkSettingsReader extends ConfigReader {
    network(): NetworkAccessSettings | undefined {
        if (this.raw["network"] === undefined) return DEFAULT_NETWORK_ACCESS;
        const o = this.object("network", ["apiServer", "userCodeEgress"], API_FIX);
        if (!o) return undefined;
        const before = this.problems.length;
        let apiServer = DEFAULT_NETWORK_ACCESS.apiServer;
        if (o.apiServer !== undefined) {
            const api = this.object("network.apiServer", ["cidrs", "ports"], API_FIX, o.apiServer);
            apiServer = {
                cidrs: api?.cidrs === undefined ? apiServer.cidrs : this.cidrs("network.apiServer.cidrs", api.cidrs, API_FIX),
                ports: api?.ports === undefined ? apiServer.ports : this.ports("network.apiServer.ports", api.ports),
            };
            if (api?.cidrs !== undefined && apiServer.cidrs.length === 0) {
                this.report("network.apiServer.cidrs", "is empty: Dagster's pods could not launch runs", API_FIX);
            }
        }
        let userCodeEgress = DEFAULT_NETWORK_ACCESS.userCodeEgress;
        if (o.userCodeEgress !== undefined) {
            if (!Array.isArray(o.userCodeEgress)) {
                this.report("network.userCodeEgress", "is not a list", EGRESS_FIX);
            } else {
                userCodeEgress = o.userCodeEgress.map((entry, i) => this.peer(`network.userCodeEgress[${i}]`, entry))
                    .filter((p): p is EgressPeer => p !== undefined);
            }
        }
        return this.problems.length === before ? { apiServer, userCodeEgress } : undefined;
    }

    private peer(key: string, entry: Json): EgressPeer | undefined {
        const o = this.object(key, ["cidr", "except", "namespace", "ports"], EGRESS_FIX, entry);
        if (!o) return undefined;
        const ports = o.ports === undefined ? undefined : this.ports(`${key}.ports`, o.ports);
        const withPorts = ports?.length ? { ports } : {};
        if ((o.cidr === undefined) === (o.namespace === undefined)) {
            this.report(key, "must name either an address block (cidr) or a namespace, not both or neither; " +
                `set ${key}.cidr (an address block) or ${key}.namespace`, configSet(`${key}.cidr`));
            return undefined;
        }
        if (o.namespace !== undefined) {
            if (o.except !== undefined) this.report(`${key}.except`, "applies only to a cidr", configRm(`${key}.except`));
            const namespace = this.check(`${key}.namespace`, String(o.namespace), rules.dnsLabel,
                configSet(`${key}.namespace`));
            return namespace ? { namespace, ...withPorts } : undefined;
        }
        const block = this.check(`${key}.cidr`, String(o.cidr), rules.cidr, configSet(`${key}.cidr`, "0.0.0.0/0"));
        const except = o.except === undefined ? [] : this.cidrs(`${key}.except`, o.except, configSet(`${key}.except[0]`, "10.0.0.0/8"));
        for (const [j, inner] of except.entries()) {
            if (block && !rules.cidrWithin(inner, block)) {
                this.report(`${key}.except[${j}]`, `"${inner}" is not a smaller block inside ${block}`,
                    configRm(`${key}.except[${j}]`));
            }
        }
        return block ? { cidr: block, ...(except.length ? { except } : {}), ...withPorts } : undefined;
    }

    private cidrs(key: string, value: Json, fix: string): string[] {
        if (!Array.isArray(value)) {
            this.report(key, "is not a list of address blocks", fix);
            return [];
        }
        return value.map((v, i) => this.check(`${key}[${i}]`, String(v), rules.cidr, fix))
            .filter((v): v is string => v !== undefined);
    }

    private ports(key: string, value: Json): number[] {
        const list = Array.isArray(value) ? value : [value];
        return list.flatMap((v, i) => {
            const n = Number(v);
            if (Number.isInteger(n) && n >= 1 && n <= 65535) return [n];
            this.report(Array.isArray(value) ? `${key}[${i}]` : key, `"${v}" is not a port number from 1 to 65535`,
                configSet(`${key}[${i}]`, 443));
            return [];
        });
    }
}

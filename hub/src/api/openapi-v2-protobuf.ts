// The Swagger 2.0 document in the protobuf form client-go asks /openapi/v2 for
// (OPENAPI_V2_PROTOBUF_ASKED): gnostic's openapi_v2.Document, which kubectl
// older than 1.27 validates manifests with and `kubectl explain --output plaintext-openapiv2` reads.
//
// GNOSTIC_OPENAPI_V2 is the part of gnostic's OpenAPIv2.proto (github.com/google/gnostic-models
// v0.7.0, openapiv2/OpenAPIv2.proto, Apache License 2.0, Copyright 2020 Google LLC) that the hub's
// document uses, with the upstream field numbers; a field left out is one the hub never sets, which
// decodes as unset. protobufjs encodes it.
import protobuf from 'protobufjs';

const GNOSTIC_OPENAPI_V2 = `
syntax = "proto3";
package openapi.v2;
message AdditionalPropertiesItem { oneof oneof { Schema schema = 1; bool boolean = 2; } }
message Any { string yaml = 2; }
message ApiKeySecurity { string type = 1; string name = 2; string in = 3; string description = 4; }
message BodyParameter { string description = 1; string name = 2; string in = 3; bool required = 4; Schema schema = 5; }
message Definitions { repeated NamedSchema additional_properties = 1; }
message Document {
  string swagger = 1; Info info = 2; repeated string consumes = 6; repeated string produces = 7; Paths paths = 8;
  Definitions definitions = 9; repeated SecurityRequirement security = 12; SecurityDefinitions security_definitions = 13;
}
message Info { string title = 1; string version = 2; string description = 3; }
message ItemsItem { repeated Schema schema = 1; }
message NamedAny { string name = 1; Any value = 2; }
message NamedPathItem { string name = 1; PathItem value = 2; }
message NamedResponseValue { string name = 1; ResponseValue value = 2; }
message NamedSchema { string name = 1; Schema value = 2; }
message NamedSecurityDefinitionsItem { string name = 1; SecurityDefinitionsItem value = 2; }
message NamedStringArray { string name = 1; StringArray value = 2; }
message NonBodyParameter { oneof oneof { QueryParameterSubSchema query_parameter_sub_schema = 3; PathParameterSubSchema path_parameter_sub_schema = 4; } }
message Operation {
  string summary = 2; string description = 3; string operation_id = 5; repeated string produces = 6; repeated string consumes = 7;
  repeated ParametersItem parameters = 8; Responses responses = 9; repeated NamedAny vendor_extension = 13;
}
message Parameter { oneof oneof { BodyParameter body_parameter = 1; NonBodyParameter non_body_parameter = 2; } }
message ParametersItem { oneof oneof { Parameter parameter = 1; } }
message PathItem { Operation get = 2; Operation put = 3; Operation post = 4; Operation delete = 5; Operation patch = 8; }
message PathParameterSubSchema { bool required = 1; string in = 2; string description = 3; string name = 4; string type = 5; string format = 6; }
message Paths { repeated NamedPathItem path = 2; }
message Properties { repeated NamedSchema additional_properties = 1; }
message QueryParameterSubSchema {
  bool required = 1; string in = 2; string description = 3; string name = 4; string type = 6; string format = 7; repeated Any enum = 20;
}
message Response { string description = 1; SchemaItem schema = 2; }
message ResponseValue { oneof oneof { Response response = 1; } }
message Responses { repeated NamedResponseValue response_code = 1; }
message Schema {
  string _ref = 1; string format = 2; string description = 4; repeated string required = 19; repeated Any enum = 20;
  AdditionalPropertiesItem additional_properties = 21; TypeItem type = 22; ItemsItem items = 23; repeated Schema all_of = 24;
  Properties properties = 25; repeated NamedAny vendor_extension = 31;
}
message SchemaItem { oneof oneof { Schema schema = 1; } }
message SecurityDefinitions { repeated NamedSecurityDefinitionsItem additional_properties = 1; }
message SecurityDefinitionsItem { oneof oneof { ApiKeySecurity api_key_security = 2; } }
message SecurityRequirement { repeated NamedStringArray additional_properties = 1; }
message StringArray { repeated string value = 1; }
message TypeItem { repeated string value = 1; }
`;

/** What client-go asks for; kube-openapi answers with OPENAPI_V2_PROTOBUF, as Go's mime parser cannot read the "@". */
export const OPENAPI_V2_PROTOBUF_ASKED = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

type Json = Record<string, unknown>;

/** An extension's or enum value's JSON, as gnostic's Any carries it: YAML text, which JSON is. */
const any = (value: unknown) => ({ yaml: JSON.stringify(value) });
const named = <T>(entries: Record<string, unknown> | undefined, value: (v: Json) => T) => Object.entries(entries ?? {}).map(([name, v]) => ({ name, value: value(v as Json) }));
const extensions = (o: Json) => Object.entries(o).filter(([k]) => k.startsWith('x-')).map(([name, v]) => ({ name, value: any(v) }));

function schema(s: Json): Json {
  const ap = s.additionalProperties;
  return {
    _ref: s.$ref,
    format: s.format,
    description: s.description,
    required: s.required,
    enum: (s.enum as unknown[] | undefined)?.map(any),
    additionalProperties: ap === undefined ? undefined : typeof ap === 'boolean' ? { boolean: ap } : { schema: schema(ap as Json) },
    type: s.type ? { value: [s.type] } : undefined,
    items: s.items ? { schema: [schema(s.items as Json)] } : undefined,
    allOf: (s.allOf as Json[] | undefined)?.map(schema),
    properties: s.properties ? { additionalProperties: named(s.properties as Json, schema) } : undefined,
    vendorExtension: extensions(s),
  };
}

function parameter(p: Json): Json {
  if (p.in === 'body') return { parameter: { bodyParameter: { ...p, schema: schema(p.schema as Json) } } };
  const sub = { required: p.required, in: p.in, description: p.description, name: p.name, type: p.type, format: p.format };
  if (p.in === 'path') return { parameter: { nonBodyParameter: { pathParameterSubSchema: sub } } };
  return { parameter: { nonBodyParameter: { queryParameterSubSchema: { ...sub, enum: (p.enum as unknown[] | undefined)?.map(any) } } } };
}

function operation(o: Json): Json {
  return {
    summary: o.summary,
    description: o.description,
    operationId: o.operationId,
    produces: o.produces,
    consumes: o.consumes,
    parameters: (o.parameters as Json[]).map(parameter),
    responses: { responseCode: named(o.responses as Json, (r) => ({ response: { description: r.description, schema: r.schema ? { schema: schema(r.schema as Json) } : undefined } })) },
    vendorExtension: extensions(o),
  };
}

let documentType: protobuf.Type | undefined;

/** `doc` (a Swagger 2.0 document of the shape openApiV2Document makes) as gnostic's protobuf Document. */
export function openApiV2Protobuf(doc: Json): Uint8Array {
  documentType ??= protobuf.parse(GNOSTIC_OPENAPI_V2).root.lookupType('openapi.v2.Document');
  const securityDefinitions = doc.securityDefinitions as Record<string, Json>;
  const message = documentType.fromObject({
    swagger: doc.swagger,
    info: doc.info,
    paths: { path: named(doc.paths as Json, (item) => Object.fromEntries(Object.entries(item).map(([method, op]) => [method, operation(op as Json)]))) },
    definitions: { additionalProperties: named(doc.definitions as Json, schema) },
    security: (doc.security as Array<Record<string, string[]>>).map((req) => ({ additionalProperties: named(req, (scopes) => ({ value: scopes as unknown as string[] })) })),
    securityDefinitions: { additionalProperties: named(securityDefinitions, (d) => ({ apiKeySecurity: d })) },
  });
  return documentType.encode(message).finish();
}

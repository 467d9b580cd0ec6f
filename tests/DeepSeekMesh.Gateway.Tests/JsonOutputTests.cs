using System.ClientModel;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpenAI;
using OpenAI.Chat;

namespace DeepSeekMesh.Gateway.Tests;

/// <summary>
/// <c>response_format</c> through the gateway: JSON by constrained decoding on the random-weight tiny model (with
/// the real tokenizer), checked by a parser and by a schema validator of this test's own, not the gateway's.
/// </summary>
public sealed class JsonOutputTests(OpenServer server) : IClassFixture<OpenServer>
{
    /// <summary>Tokens beyond the schema's shortest output: random weights ramble until the budget forces the JSON closed.</summary>
    const int Slack = 24;

    [Fact]
    public async Task A_hundred_random_schemas_on_random_weights_all_give_json_valid_against_their_schema()
    {
        using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
        var requests = Enumerable.Range(0, 100).Select(async i =>
        {
            var rng = new Random(1000 + i);
            var schema = RandomSchema(rng, depth: 0);
            bool chat = i % 5 != 0; // every fifth through /v1/completions
            var body = new JsonObject
            {
                ["max_tokens"] = ShortestBytes(schema) + Slack,
                ["temperature"] = i % 4 == 0 ? 0 : 1.0,
                ["seed"] = i,
                ["response_format"] = new JsonObject
                {
                    ["type"] = "json_schema",
                    ["json_schema"] = new JsonObject { ["name"] = $"s{i}", ["schema"] = schema.DeepClone(), ["strict"] = i % 2 == 0 },
                },
            };
            if (chat) body["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = $"Give me JSON #{i}." });
            else body["prompt"] = $"JSON #{i}:";
            var response = await http.PostAsync(chat ? "/v1/chat/completions" : "/v1/completions", GatewayServer.JsonBody(body.ToJsonString()));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"schema {i}: {(int)response.StatusCode} {text}\n{schema.ToJsonString()}");
            var choice = JsonNode.Parse(text)!["choices"]![0]!;
            string content = chat ? (string)choice["message"]!["content"]! : (string)choice["text"]!;
            return (i, schema, content, (string?)choice["finish_reason"]);
        }).ToArray();
        var results = await Task.WhenAll(requests);

        var failures = new List<string>();
        foreach (var (i, schema, content, finish) in results)
        {
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(content);
            }
            catch (JsonException e)
            {
                failures.Add($"schema {i}: not JSON ({e.Message}): {content}\n  {schema.ToJsonString()}");
                continue;
            }
            using (document)
            {
                if (Validate(document.RootElement, schema, "$") is { } error) failures.Add($"schema {i}: {error}: {content}\n  {schema.ToJsonString()}");
            }
            if (finish != "stop") failures.Add($"schema {i}: finish_reason {finish}, expected stop (the JSON completes within max_tokens)");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        // Not all trivially short: random weights should write strings, numbers and whitespace where allowed.
        Assert.True(results.Average(r => r.content.Length) > 20, $"mean length {results.Average(r => r.content.Length)}");
    }

    OpenAIClientOptions Options => new() { Endpoint = new Uri(server.BaseAddress, "/v1") };
    ChatClient Chat => new(server.ModelId, new ApiKeyCredential("unused-open-server"), Options);

    const string Weather = """
        {"type":"object","properties":{"city":{"type":"string"},"celsius":{"type":"number"},"sky":{"enum":["clear","cloudy","rain"]},
         "hourly":{"type":"array","items":{"type":"integer"},"maxItems":4}},"required":["city","celsius","sky","hourly"],"additionalProperties":false}
        """;

    [Theory]
    [InlineData("json_object", false)]
    [InlineData("json_object", true)]
    [InlineData("json_schema", false)]
    [InlineData("json_schema", true)]
    public async Task The_OpenAI_sdk_gets_json_streamed_and_not(string type, bool stream)
    {
        var options = new ChatCompletionOptions
        {
            Temperature = 1f,
            MaxOutputTokenCount = 80,
            ResponseFormat = type == "json_object"
                ? ChatResponseFormat.CreateJsonObjectFormat()
                : ChatResponseFormat.CreateJsonSchemaFormat("weather", BinaryData.FromString(Weather), jsonSchemaIsStrict: true),
        };
        ChatMessage[] messages = [new UserChatMessage("What is the weather in Paris? Answer in JSON.")];
        string content;
        ChatFinishReason? finish = null;
        if (stream)
        {
            var text = new System.Text.StringBuilder();
            await foreach (var update in Chat.CompleteChatStreamingAsync(messages, options))
            {
                foreach (var part in update.ContentUpdate) text.Append(part.Text);
                finish ??= update.FinishReason;
            }
            content = text.ToString();
        }
        else
        {
            ChatCompletion completion = await Chat.CompleteChatAsync(messages, options);
            content = completion.Content[0].Text;
            finish = completion.FinishReason;
        }
        Assert.Equal(ChatFinishReason.Stop, finish);
        using var json = JsonDocument.Parse(content);
        Assert.Equal(JsonValueKind.Object, json.RootElement.ValueKind);
        if (type == "json_schema")
        {
            Assert.Null(Validate(json.RootElement, JsonNode.Parse(Weather)!.AsObject(), "$"));
            Assert.Contains(json.RootElement.GetProperty("sky").GetString(), new[] { "clear", "cloudy", "rain" });
            Assert.True(json.RootElement.GetProperty("hourly").GetArrayLength() <= 4);
        }
    }

    [Theory]
    [InlineData("""{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"string","pattern":"^a+$"}}}""", "pattern")]
    [InlineData("""{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object","properties":{"a":{"$ref":"#/$defs/a"}}}}}""", "$ref")]
    [InlineData("""{"type":"json_schema","json_schema":{"schema":{"type":"object"}}}""", "name")]
    [InlineData("""{"type":"yaml"}""", "yaml")]
    public async Task Unsupported_response_formats_are_400s_naming_what(string format, string named)
    {
        var (status, body, _) = await server.PostAsync("/v1/chat/completions",
            $$"""{"messages":[{"role":"user","content":"x"}],"max_tokens":20,"response_format":{{format}}}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("response_format", (string?)body!["error"]!["param"]);
        Assert.Contains(named, (string)body["error"]!["message"]!);
    }

    [Fact]
    public async Task Too_few_max_tokens_for_the_schema_and_a_required_tool_call_are_400s()
    {
        var (status, body, _) = await server.PostAsync("/v1/chat/completions",
            """{"messages":[{"role":"user","content":"x"}],"max_tokens":5,"response_format":{"type":"json_schema","json_schema":{"name":"w","schema":""" + Weather + "}}}");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("max_tokens", (string?)body!["error"]!["param"]);
        (status, body, _) = await server.PostAsync("/v1/chat/completions",
            """{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"},"tool_choice":"required","tools":[{"type":"function","function":{"name":"f"}}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("response_format", (string?)body!["error"]!["param"]);
    }

    // ---- The test's own schema generator and validator (independent of the gateway's compiler) ----

    /// <summary>An upper bound on the bytes of the shortest JSON valid against a schema RandomSchema writes (compact, keys JSON-escaped).</summary>
    static int ShortestBytes(JsonObject schema)
    {
        if (schema["enum"] is JsonArray options) return options.Min(o => o?.ToJsonString().Length ?? 4);
        if (schema["const"] is { } constant) return constant.ToJsonString().Length;
        var types = schema["type"] switch
        {
            null => ["integer"], // any value: a digit
            JsonArray list => list.Select(t => (string)t!).ToArray(),
            var t => [(string)t!],
        };
        return types.Min(type => type switch
        {
            "object" => 2 + (schema["required"] as JsonArray ?? []).Select(n => (string)n!)
                .Sum(n => JsonValue.Create(n).ToJsonString().Length + 2 + ShortestBytes((JsonObject)schema["properties"]![n]!)),
            "array" => 2 + (int)(schema["minItems"] ?? 0) * (1 + ShortestBytes((JsonObject)schema["items"]!)),
            "string" => 2,
            "boolean" or "null" => 5,
            _ => 1,
        });
    }

    static readonly string[] Names = ["a", "id", "name", "x y", "ключ", "emoji😀", "q\"uote", "n2"];

    static JsonObject RandomSchema(Random rng, int depth)
    {
        int kind = depth == 0 ? (rng.Next(6) == 0 ? 1 : 0) : rng.Next(depth >= 2 ? 9 : 11);
        switch (kind)
        {
            case 0:
            {
                var properties = new JsonObject();
                var required = new JsonArray();
                int count = rng.Next(depth == 0 ? 1 : 0, depth == 0 ? 4 : 3);
                foreach (var name in Names.OrderBy(_ => rng.Next()).Take(count))
                {
                    properties[name] = RandomSchema(rng, depth + 1);
                    if (rng.Next(3) > 0) required.Add(name);
                }
                var o = new JsonObject { ["type"] = "object", ["properties"] = properties, ["required"] = required };
                if (rng.Next(2) == 0) o["additionalProperties"] = false;
                return o;
            }
            case 1:
            {
                var a = new JsonObject { ["type"] = "array", ["items"] = RandomSchema(rng, depth + 1) };
                if (rng.Next(2) == 0) a["minItems"] = rng.Next(0, 3);
                if (rng.Next(2) == 0) a["maxItems"] = (int)(a["minItems"] ?? 0) + rng.Next(0, 4);
                return a;
            }
            case 2: return new JsonObject { ["type"] = "string" };
            case 3: return new JsonObject { ["type"] = "integer" };
            case 4: return new JsonObject { ["type"] = "number" };
            case 5: return new JsonObject { ["type"] = "boolean" };
            case 6: return new JsonObject { ["type"] = new JsonArray("string", "null") };
            case 7: return new JsonObject { ["enum"] = new JsonArray("red", 7, null, "gr\u00fcn", false) };
            case 8: return new JsonObject { ["const"] = "fixed" };
            case 9: return new JsonObject(); // any value
            default: return new JsonObject { ["type"] = "object" }; // any object
        }
    }

    /// <summary>Null when <paramref name="value"/> is valid against <paramref name="schema"/> (the subset the generator writes).</summary>
    static string? Validate(JsonElement value, JsonObject schema, string path)
    {
        var node = JsonNode.Parse(value.GetRawText());
        if (schema["enum"] is JsonArray options)
            return options.Any(o => JsonNode.DeepEquals(o, node)) ? null : $"{path}: {value.GetRawText()} is not in the enum";
        if (schema.ContainsKey("const"))
            return JsonNode.DeepEquals(schema["const"], node) ? null : $"{path}: {value.GetRawText()} is not the const";
        if (schema["type"] is { } type)
        {
            var types = type is JsonArray list ? list.Select(t => (string)t!).ToArray() : [(string)type!];
            if (!types.Any(t => HasType(value, t))) return $"{path}: {value.ValueKind} is not {string.Join("|", types)}";
        }
        if (value.ValueKind == JsonValueKind.Object)
        {
            var properties = schema["properties"] as JsonObject;
            foreach (var name in (schema["required"] as JsonArray)?.Select(n => (string)n!) ?? [])
                if (!value.TryGetProperty(name, out _)) return $"{path}: missing required '{name}'";
            foreach (var p in value.EnumerateObject())
            {
                if (properties?[p.Name] is JsonObject sub)
                {
                    if (Validate(p.Value, sub, $"{path}.{p.Name}") is { } e) return e;
                }
                else if (schema["additionalProperties"] is JsonValue v && !v.GetValue<bool>()) return $"{path}: unexpected property '{p.Name}'";
            }
        }
        if (value.ValueKind == JsonValueKind.Array)
        {
            int n = value.GetArrayLength();
            if (schema["minItems"] is { } min && n < (int)min) return $"{path}: {n} items < minItems {min}";
            if (schema["maxItems"] is { } max && n > (int)max) return $"{path}: {n} items > maxItems {max}";
            if (schema["items"] is JsonObject items)
            {
                int i = 0;
                foreach (var item in value.EnumerateArray())
                    if (Validate(item, items, $"{path}[{i++}]") is { } e) return e;
            }
        }
        return null;
    }

    static bool HasType(JsonElement value, string type) => type switch
    {
        "object" => value.ValueKind == JsonValueKind.Object,
        "array" => value.ValueKind == JsonValueKind.Array,
        "string" => value.ValueKind == JsonValueKind.String,
        "number" => value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out double d) && double.IsFinite(d),
        "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out double x) && double.IsFinite(x) && Math.Floor(x) == x,
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "null" => value.ValueKind == JsonValueKind.Null,
        _ => false,
    };
}

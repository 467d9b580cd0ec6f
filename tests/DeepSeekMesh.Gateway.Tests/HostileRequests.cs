using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace DeepSeekMesh.Gateway.Tests;

/// <summary>How a hostile request travels: through HttpClient, or written by hand on a socket.</summary>
public enum HostileKind
{
    /// <summary>A POST with <see cref="HostileRequest.Body"/> and <see cref="HostileRequest.ContentType"/>.</summary>
    Post,
    /// <summary>A POST whose header block is larger than Kestrel allows: 431.</summary>
    OversizedHeaders,
    /// <summary>A POST announcing (or streaming, chunked) a body over the size limit: 413 or a closed connection.</summary>
    OversizedBody,
    /// <summary>A POST whose body drips in at 1 byte per second: the minimum data rate ends it.</summary>
    SlowDrip,
}

/// <summary>One hostile request: what it is (for messages), where it goes, and its bytes.</summary>
public sealed record HostileRequest(int Index, HostileKind Kind, string What, string Path, string? ContentType, byte[] Body, bool Chunked = false);

/// <summary>
/// Hostile requests generated deterministically from a seed: mutations of valid chat and completion requests
/// (truncations, byte flips and insertions, type swaps, duplicated keys, huge and malformed numbers, huge strings,
/// deep nesting, invalid UTF-8, lone surrogates, wrong content types, missing fields, blown-up arrays) and a few
/// that attack the transport (oversized headers and bodies, slow-drip bodies). Valid requests ask for 2 tokens,
/// so that a mutation that stays valid costs little.
/// </summary>
public static class HostileRequests
{
    static readonly string[] Bases =
    [
        """{"model":"MODEL","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello there"}],"max_tokens":2,"max_completion_tokens":2,"temperature":0.5,"top_p":0.9,"seed":3,"n":1,"stop":["\n\n"],"stream":false,"logprobs":true,"top_logprobs":2,"logit_bias":{"11":1.5},"presence_penalty":0.1}""",
        """{"model":"MODEL","messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}],"max_tokens":2,"max_completion_tokens":2,"stream":true,"stream_options":{"include_usage":true},"tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object","properties":{"a":{"type":"string"}}}}}],"tool_choice":"auto"}""",
        """{"model":"MODEL","prompt":"Once upon a time","max_tokens":2,"echo":true,"logprobs":2,"temperature":0,"seed":7,"stop":"\n","frequency_penalty":0.2}""",
        """{"model":"MODEL","prompt":[[1,2,3],[4,5,6]],"max_tokens":2,"n":2,"stream":true,"top_k":5,"min_p":0.1,"repetition_penalty":1.1}""",
    ];

    static readonly string[] HugeNumbers =
    [
        "1e999999", "-1e999999", "1e-999999", new string('9', 400), "-" + new string('9', 400), "2147483648", "-2147483649",
        "18446744073709551616", "1.5", "-0", "0", "-1", "1e308", "0.0000000000000000000000000000001",
    ];

    static readonly string[] Garbage = ["NaN", "Infinity", "-Infinity", "undefined", "0x10", "01", "1.", ".5", "+1", "1e", "--1", "tru", "nul", "'x'"];

    /// <summary><paramref name="count"/> requests from <paramref name="seed"/>: the same seed gives the same bytes.</summary>
    public static List<HostileRequest> Generate(int seed, int count, string model)
    {
        var random = new Random(seed);
        var requests = new List<HostileRequest>(count);
        for (int i = 0; i < count; i++) requests.Add(Make(i, random, model));
        return requests;
    }

    static HostileRequest Make(int index, Random random, string model)
    {
        var json = Bases[random.Next(Bases.Length)].Replace("MODEL", model);
        var path = json.Contains("\"messages\"") ? "/v1/chat/completions" : "/v1/completions";
        HostileRequest Post(string what, byte[] body, string? contentType = "application/json") => new(index, HostileKind.Post, what, path, contentType, body);
        HostileRequest Text(string what, string body) => Post(what, Encoding.UTF8.GetBytes(body));
        var bytes = Encoding.UTF8.GetBytes(json);
        switch (random.Next(20))
        {
            case 0:
                int cut = random.Next(bytes.Length);
                return Post($"truncated at byte {cut}", bytes[..cut]);
            case 1:
            {
                int at = random.Next(bytes.Length);
                var flipped = (byte[])bytes.Clone();
                flipped[at] = (byte)random.Next(256);
                return Post($"byte {at} set to 0x{flipped[at]:X2}", flipped);
            }
            case 2:
            {
                int at = random.Next(bytes.Length);
                return Post($"byte inserted at {at}", [.. bytes[..at], (byte)random.Next(256), .. bytes[at..]]);
            }
            case 3:
            {
                var (name, value) = RandomValue(random);
                return Text($"a field set to {name}", ReplaceRandomValue(json, random, value));
            }
            case 4:
            {
                var node = JsonNode.Parse(json)!.AsObject();
                var key = node.ElementAt(random.Next(node.Count)).Key;
                var (_, value) = RandomValue(random);
                return Text($"'{key}' duplicated", json[..^1] + $",\"{key}\":{value}}}");
            }
            case 5:
            {
                var number = HugeNumbers[random.Next(HugeNumbers.Length)];
                return Text($"a number set to {Abbreviate(number)}", ReplaceRandomNumber(json, random, number));
            }
            case 6:
            {
                var garbage = Garbage[random.Next(Garbage.Length)];
                return Text($"a value set to the non-JSON {garbage}", ReplaceRandomValue(json, random, garbage));
            }
            case 7:
            {
                var huge = new string((char)('a' + random.Next(26)), 64 * 1024 + random.Next(1024));
                return Text("a string of 64 KiB", ReplaceRandomString(json, random, huge));
            }
            case 8:
            {
                int depth = 10_000;
                var deep = random.Next(2) == 0 ? new string('[', depth) + new string(']', depth) : Nest(depth);
                return Text($"a value nested {depth} levels deep", ReplaceRandomValue(json, random, deep));
            }
            case 9:
            {
                byte[][] bad = [[0xC3, 0x28], [0xFF], [0xED, 0xA0, 0x80], [0xF0, 0x9F, 0x98], [0xC0, 0xAF], [0x80]];
                var b = bad[random.Next(bad.Length)];
                var at = json.IndexOf('"', json.IndexOf(':', random.Next(json.Length / 2))) + 1;
                if (at <= 0) at = json.Length / 2;
                return Post($"invalid UTF-8 {Convert.ToHexString(b)} at {at}", [.. Encoding.UTF8.GetBytes(json[..at]), .. b, .. Encoding.UTF8.GetBytes(json[at..])]);
            }
            case 10:
            {
                string[] escapes = ["\\ud800", "\\udfff", "\\ud800\\ud800", "\\u0000", "\\uffff", "\\ud83d", "\\x41", "\\u12", "\\"];
                var escape = escapes[random.Next(escapes.Length)];
                return Text($"the escape {escape} in a string", ReplaceRandomString(json, random, "abc" + escape + "def", raw: true));
            }
            case 11:
            {
                string[] types = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml", "application/json; charset=utf-16", "", "*/*"];
                var type = types[random.Next(types.Length)];
                return Post($"content type '{type}'", bytes, type.Length == 0 ? null : type);
            }
            case 12:
            {
                string[] roots = ["", " ", "null", "[]", "\"x\"", "1", "true", "{}", "[{}]", "{\"model\":null}", "\uFEFF{}", "{\"a\":1}{\"b\":2}", "{,}", "{\"a\" 1}"];
                var root = roots[random.Next(roots.Length)];
                return Text($"body '{root}'", root);
            }
            case 13:
            {
                var node = JsonNode.Parse(json)!.AsObject();
                var key = node.ElementAt(random.Next(node.Count)).Key;
                if (key is "max_tokens" or "max_completion_tokens") key = path.Contains("chat") ? "messages" : "prompt";
                node.Remove(key);
                return Text($"'{key}' removed", node.ToJsonString());
            }
            case 14:
            {
                var node = JsonNode.Parse(json)!.AsObject();
                switch (random.Next(5))
                {
                    case 0: node["stop"] = new JsonArray(Enumerable.Range(0, 10_000).Select(i => (JsonNode)JsonValue.Create($"s{i}")).ToArray()); break;
                    case 1: node["logit_bias"] = new JsonObject(Enumerable.Range(0, 10_000).Select(i => KeyValuePair.Create((random.Next() * 7L).ToString(CultureInfo.InvariantCulture), (JsonNode?)JsonValue.Create(1.0)))
                        .DistinctBy(p => p.Key)); break;
                    case 2: node[path.Contains("chat") ? "messages" : "prompt"] = path.Contains("chat")
                        ? new JsonArray(Enumerable.Range(0, 5_000).Select(i => (JsonNode)new JsonObject { ["role"] = i % 2 == 0 ? "user" : "assistant", ["content"] = "hi" }).ToArray())
                        : new JsonArray(Enumerable.Range(0, 50_000).Select(i => (JsonNode)JsonValue.Create(random.Next())).ToArray()); break;
                    case 3: node["n"] = random.Next(2) == 0 ? 100_000 : -3; break;
                    default: node["prompt"] = new JsonArray(JsonValue.Create(int.MaxValue), JsonValue.Create(-1), JsonValue.Create(129_280)); break;
                }
                return Text("an array or a count blown up", node.ToJsonString());
            }
            case 15:
                return new(index, HostileKind.OversizedHeaders, "a 64 KiB header", path, "application/json", bytes);
            case 16:
                return new(index, HostileKind.OversizedBody, random.Next(2) == 0 ? "a 5 MiB body with its length" : "a 5 MiB chunked body", path, "application/json",
                    bytes, Chunked: random.Next(2) == 1);
            case 17:
                return new(index, HostileKind.SlowDrip, "a body dripping at 1 byte per second", path, "application/json", bytes);
            case 18:
            {
                // Type swaps aimed at the fields that take several shapes.
                var node = JsonNode.Parse(json)!.AsObject();
                string[] keys = ["messages", "prompt", "stop", "tools", "tool_choice", "response_format", "logit_bias", "stream_options", "model", "n", "seed"];
                var key = keys[random.Next(keys.Length)];
                var (name, value) = RandomValue(random);
                node[key] = JsonNode.Parse(value);
                return Text($"'{key}' set to {name}", node.ToJsonString());
            }
            default:
            {
                // Messages with odd roles and content shapes.
                JsonNode[] messages =
                [
                    new JsonObject { ["role"] = "wizard", ["content"] = "x" },
                    new JsonObject { ["role"] = "user" },
                    new JsonObject { ["role"] = "user", ["content"] = new JsonArray(new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = "http://x" } }) },
                    new JsonObject { ["role"] = "user", ["content"] = new JsonArray(new JsonObject { ["type"] = "text" }) },
                    new JsonObject { ["role"] = "tool", ["content"] = "r" },
                    new JsonObject { ["role"] = "assistant", ["tool_calls"] = new JsonArray(new JsonObject { ["id"] = 1, ["function"] = "f" }) },
                    new JsonObject { ["content"] = "no role" },
                    JsonValue.Create("just a string"),
                ];
                var chat = JsonNode.Parse(Bases[0].Replace("MODEL", model))!.AsObject();
                chat["messages"] = new JsonArray(messages[random.Next(messages.Length)].DeepClone());
                return new(index, HostileKind.Post, "an odd message", "/v1/chat/completions", "application/json", Encoding.UTF8.GetBytes(chat.ToJsonString()));
            }
        }
    }

    static string Nest(int depth)
    {
        var s = new StringBuilder(depth * 6);
        for (int i = 0; i < depth; i++) s.Append("{\"a\":");
        s.Append('1');
        s.Append('}', depth);
        return s.ToString();
    }

    static string Abbreviate(string s) => s.Length > 24 ? $"{s[..12]}…({s.Length} chars)" : s;

    static (string Name, string Json) RandomValue(Random random)
    {
        (string, string)[] values =
        [
            ("a string", "\"x\""), ("an empty string", "\"\""), ("a number", "42"), ("a negative number", "-7"), ("a fraction", "0.25"),
            ("true", "true"), ("false", "false"), ("null", "null"), ("an empty array", "[]"), ("an array", "[1,\"a\",null]"),
            ("an empty object", "{}"), ("an object", "{\"x\":{\"y\":[1]}}"), ("a huge number", "1e999999"), ("a 400-digit integer", new string('7', 400)),
            ("an array of objects", "[{\"role\":1},{}]"),
        ];
        return values[random.Next(values.Length)];
    }

    /// <summary>Replaces the value after a random <c>":</c> with <paramref name="value"/> (text-level, so that the result may be any bytes).</summary>
    static string ReplaceRandomValue(string json, Random random, string value)
    {
        var colons = Positions(json, "\":");
        int start = colons[random.Next(colons.Count)] + 2;
        int end = ValueEnd(json, start);
        return json[..start] + value + json[end..];
    }

    static string ReplaceRandomNumber(string json, Random random, string number)
    {
        var numbers = new List<(int Start, int End)>();
        for (int i = 0; i < json.Length; i++)
            if ((char.IsDigit(json[i]) || json[i] == '-') && i > 0 && json[i - 1] is ':' or '[' or ',')
            {
                int end = i + 1;
                while (end < json.Length && (char.IsDigit(json[end]) || json[end] is '.' or 'e' or 'E' or '-' or '+')) end++;
                numbers.Add((i, end));
            }
        if (numbers.Count == 0) return ReplaceRandomValue(json, random, number);
        var (s, e) = numbers[random.Next(numbers.Count)];
        return json[..s] + number + json[e..];
    }

    static string ReplaceRandomString(string json, Random random, string content, bool raw = false)
    {
        var colons = Positions(json, "\":\"");
        if (colons.Count == 0) return ReplaceRandomValue(json, random, "\"" + content + "\"");
        int start = colons[random.Next(colons.Count)] + 3;
        int end = start;
        while (end < json.Length && !(json[end] == '"' && json[end - 1] != '\\')) end++;
        return json[..start] + (raw ? content : content.Replace("\\", "\\\\").Replace("\"", "\\\"")) + json[end..];
    }

    static List<int> Positions(string text, string what)
    {
        var found = new List<int>();
        for (int i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + 1, StringComparison.Ordinal)) found.Add(i);
        return found;
    }

    /// <summary>The end of the JSON value that starts at <paramref name="start"/> (brackets and strings balanced).</summary>
    static int ValueEnd(string json, int start)
    {
        int depth = 0;
        bool inString = false;
        for (int i = start; i < json.Length; i++)
        {
            char c = json[i];
            if (inString)
            {
                if (c == '\\') i++;
                else if (c == '"') inString = false;
                if (!inString && depth == 0) return i + 1;
                continue;
            }
            switch (c)
            {
                case '"': inString = true; break;
                case '[' or '{': depth++; break;
                case ']' or '}':
                    if (depth == 0) return i;
                    if (--depth == 0) return i + 1;
                    break;
                case ',' when depth == 0: return i;
            }
        }
        return json.Length;
    }
}

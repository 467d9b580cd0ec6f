using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace DeepSeekMesh.Sampling.Structured;

/// <summary>
/// Compiles a JSON Schema into a <see cref="ByteAutomaton"/> that accepts exactly the compact-or-lightly-spaced
/// JSON texts the generator may write for it. Supported: <c>type</c> (a name or a list), <c>properties</c>,
/// <c>required</c>, <c>additionalProperties</c>, <c>items</c>, <c>minItems</c>/<c>maxItems</c>, <c>enum</c>,
/// <c>const</c>, <c>anyOf</c>, and annotations (<c>title</c>, <c>description</c>, …, ignored). Anything else is
/// refused with the keyword named. Choices the grammar makes (documented in README.md):
/// <list type="bullet">
/// <item>an object with <c>properties</c> is written with its properties in declared order, required ones always,
/// optional ones maybe, and never other keys (valid whatever <c>additionalProperties</c> says), so
/// <c>strict</c> changes nothing; <c>required</c> names missing from <c>properties</c> are written last, with any value;</item>
/// <item>a free-form value (<c>{}</c>, <c>json_object</c>, an object without <c>properties</c>, an array without
/// <c>items</c>) nests at most <see cref="MaxFreeDepth"/> containers deep (each level is a copy of the automaton);</item>
/// <item>integers have at most 15 digits, numbers at most 15 digits before and after the point and a two-digit
/// exponent (every value a double holds exactly or finitely); strings are valid UTF-8 with JSON escapes
/// (no lone surrogate escapes), their length bounded only by max_tokens;</item>
/// <item>at most <see cref="Nfa.MaxWhitespace"/> bytes of whitespace where JSON allows it, none before or after the value.</item>
/// </list>
/// </summary>
internal sealed class JsonSchemaCompiler
{
    /// <summary>Containers a free-form value nests at most (json_object's own object counts).</summary>
    public const int MaxFreeDepth = 4;

    /// <summary>The largest <c>minItems</c>/<c>maxItems</c> (each allowed item is a copy of the item's automaton).</summary>
    public const int MaxItemsBound = 64;

    const int MaxIntegerDigits = 15, MaxFractionDigits = 15, MaxExponentDigits = 2;

    static readonly HashSet<string> Annotations =
        ["title", "description", "$schema", "$id", "$comment", "default", "examples", "deprecated", "readOnly", "writeOnly"];

    static readonly HashSet<string> Keywords =
        ["type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems", "enum", "const", "anyOf"];

    static readonly JsonWriterOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false };

    readonly Nfa _nfa = new();

    /// <summary>Throws <see cref="SamplingParamsException"/> (parameter <c>response_format</c>) for schemas it cannot compile.</summary>
    public static ByteAutomaton Compile(string schema)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(schema);
        }
        catch (JsonException e)
        {
            throw Fail($"the JSON schema is not valid JSON: {e.Message}");
        }
        using (document)
        {
            try
            {
                var compiler = new JsonSchemaCompiler();
                int start = compiler._nfa.Add();
                int end = compiler.Value(start, document.RootElement, "schema", MaxFreeDepth);
                return compiler._nfa.Determinize(start, end);
            }
            catch (SchemaTooLargeException e)
            {
                throw Fail($"the JSON schema is too large for constrained decoding: {e.Message}");
            }
        }
    }

    static SamplingParamsException Fail(string message) => new("response_format", message);

    int Value(int from, JsonElement schema, string path, int freeLevels)
    {
        if (schema.ValueKind == JsonValueKind.True) return Any(from, freeLevels);
        if (schema.ValueKind == JsonValueKind.False) throw Fail($"'{path}' is false: no value is valid.");
        if (schema.ValueKind != JsonValueKind.Object) throw Fail($"'{path}' must be a JSON Schema object or a boolean.");
        foreach (var p in schema.EnumerateObject())
            if (!Keywords.Contains(p.Name) && !Annotations.Contains(p.Name))
                throw Fail($"the JSON Schema keyword '{p.Name}' (at '{path}') is not supported; supported keywords: {string.Join(", ", Keywords)}, and annotations.");

        if (schema.TryGetProperty("enum", out var values))
        {
            if (values.ValueKind != JsonValueKind.Array || values.GetArrayLength() == 0) throw Fail($"'{path}.enum' must be a non-empty array.");
            return _nfa.Union(from, values.EnumerateArray().Select(v => (Func<int, int>)(s => _nfa.Literal(s, Serialize(v)))).ToArray());
        }
        if (schema.TryGetProperty("const", out var constant)) return _nfa.Literal(from, Serialize(constant));
        if (schema.TryGetProperty("anyOf", out var anyOf))
        {
            if (anyOf.ValueKind != JsonValueKind.Array || anyOf.GetArrayLength() == 0) throw Fail($"'{path}.anyOf' must be a non-empty array.");
            if (schema.EnumerateObject().Any(p => p.Name != "anyOf" && Keywords.Contains(p.Name)))
                throw Fail($"'{path}': 'anyOf' beside other keywords is not supported; put them inside each alternative.");
            return _nfa.Union(from, anyOf.EnumerateArray().Select((a, i) => (Func<int, int>)(s => Value(s, a, $"{path}.anyOf[{i}]", freeLevels))).ToArray());
        }

        var types = Types(schema, path);
        if (types is null) // no type: what the other keywords imply, else anything
        {
            if (Has(schema, "properties") || Has(schema, "required") || Has(schema, "additionalProperties")) types = ["object"];
            else if (Has(schema, "items") || Has(schema, "minItems") || Has(schema, "maxItems")) types = ["array"];
            else return Any(from, freeLevels);
        }
        return _nfa.Union(from, types.Distinct().Select(t => (Func<int, int>)(t switch
        {
            "string" => s => String(s),
            "number" => s => Number(s, integer: false),
            "integer" => s => Number(s, integer: true),
            "boolean" => s => Boolean(s),
            "null" => s => _nfa.Literal(s, "null"u8),
            "object" => s => Object(s, schema, path, freeLevels),
            "array" => s => Array(s, schema, path, freeLevels),
            _ => throw Fail($"'{path}.type': unknown type '{t}' (expected string, number, integer, boolean, null, object or array)."),
        })).ToArray());
    }

    static bool Has(JsonElement schema, string keyword) => schema.TryGetProperty(keyword, out _);

    static string[]? Types(JsonElement schema, string path)
    {
        if (!schema.TryGetProperty("type", out var type)) return null;
        if (type.ValueKind == JsonValueKind.String) return [type.GetString()!];
        if (type.ValueKind == JsonValueKind.Array && type.GetArrayLength() > 0 && type.EnumerateArray().All(t => t.ValueKind == JsonValueKind.String))
            return type.EnumerateArray().Select(t => t.GetString()!).ToArray();
        throw Fail($"'{path}.type' must be a type name or a non-empty array of type names.");
    }

    /// <summary>Any JSON value; containers only while free nesting levels remain.</summary>
    int Any(int from, int freeLevels)
    {
        var alternatives = new List<Func<int, int>>
        {
            s => String(s),
            s => Number(s, integer: false),
            s => Boolean(s),
            s => _nfa.Literal(s, "null"u8),
        };
        if (freeLevels > 0)
        {
            alternatives.Add(s => FreeObject(s, null, "", freeLevels));
            alternatives.Add(s => Items(s, null, 0, null, "", freeLevels - 1));
        }
        return _nfa.Union(from, alternatives);
    }

    int Boolean(int from) => _nfa.Union(from, [s => _nfa.Literal(s, "true"u8), s => _nfa.Literal(s, "false"u8)]);

    /// <summary>A JSON string: UTF-8 validated byte by byte, escapes, no control characters, no lone surrogate escapes.</summary>
    int String(int from)
    {
        int body = _nfa.Step(from, (byte)'"', (byte)'"');
        int end = _nfa.Add();
        _nfa.Bytes(body, (byte)'"', (byte)'"', end);
        _nfa.Bytes(body, 0x20, 0x21, body);
        _nfa.Bytes(body, 0x23, 0x5B, body);
        _nfa.Bytes(body, 0x5D, 0x7F, body);
        // Escapes.
        int escape = _nfa.Step(body, (byte)'\\', (byte)'\\');
        foreach (byte c in "\"\\/bfnrt"u8) _nfa.Bytes(escape, c, c, body);
        int u1 = _nfa.Step(escape, (byte)'u', (byte)'u');
        int u2 = _nfa.Add(), u2Surrogate = _nfa.Add(), u3 = _nfa.Add(), u4 = _nfa.Add();
        Hex(u1, u2, "0123456789abceABCE"u8);
        Hex(u1, u2Surrogate, "dD"u8);
        Hex(u2, u3, "0123456789abcdefABCDEF"u8);
        Hex(u2Surrogate, u3, "01234567"u8); // \uD800–\uDFFF would be half a surrogate pair
        Hex(u3, u4, "0123456789abcdefABCDEF"u8);
        Hex(u4, body, "0123456789abcdefABCDEF"u8);
        // Multi-byte UTF-8 (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
        int tail1 = _nfa.Add(), tail2 = _nfa.Add(), tail3 = _nfa.Add();
        _nfa.Bytes(tail1, 0x80, 0xBF, body);
        _nfa.Bytes(tail2, 0x80, 0xBF, tail1);
        _nfa.Bytes(tail3, 0x80, 0xBF, tail2);
        _nfa.Bytes(body, 0xC2, 0xDF, tail1);
        _nfa.Bytes(_nfa.Step(body, 0xE0, 0xE0), 0xA0, 0xBF, tail1);
        _nfa.Bytes(body, 0xE1, 0xEC, tail2);
        _nfa.Bytes(_nfa.Step(body, 0xED, 0xED), 0x80, 0x9F, tail1);
        _nfa.Bytes(body, 0xEE, 0xEF, tail2);
        _nfa.Bytes(_nfa.Step(body, 0xF0, 0xF0), 0x90, 0xBF, tail2);
        _nfa.Bytes(body, 0xF1, 0xF3, tail3);
        _nfa.Bytes(_nfa.Step(body, 0xF4, 0xF4), 0x80, 0x8F, tail2);
        return end;
    }

    void Hex(int from, int to, ReadOnlySpan<byte> digits)
    {
        foreach (byte d in digits) _nfa.Bytes(from, d, d, to);
    }

    /// <summary>-?(0|[1-9][0-9]{0,14})(\.[0-9]{1,15})?([eE][+-]?[0-9]{1,2})? — integers without fraction and exponent.</summary>
    int Number(int from, bool integer)
    {
        int sign = _nfa.Add();
        _nfa.Epsilon(from, sign);
        _nfa.Bytes(from, (byte)'-', (byte)'-', sign);
        int whole = _nfa.Add();
        _nfa.Bytes(sign, (byte)'0', (byte)'0', whole);
        int digit = _nfa.Step(sign, (byte)'1', (byte)'9');
        _nfa.Epsilon(digit, whole);
        for (int i = 1; i < MaxIntegerDigits; i++)
        {
            digit = _nfa.Step(digit, (byte)'0', (byte)'9');
            _nfa.Epsilon(digit, whole);
        }
        if (integer) return whole;
        int end = _nfa.Add();
        int fraction = _nfa.Add();
        _nfa.Epsilon(whole, fraction);
        int point = _nfa.Step(whole, (byte)'.', (byte)'.');
        for (int i = 0; i < MaxFractionDigits; i++)
        {
            point = _nfa.Step(point, (byte)'0', (byte)'9');
            _nfa.Epsilon(point, fraction);
        }
        _nfa.Epsilon(fraction, end);
        int e = _nfa.Add();
        _nfa.Bytes(fraction, (byte)'e', (byte)'e', e);
        _nfa.Bytes(fraction, (byte)'E', (byte)'E', e);
        int exponentSign = _nfa.Add();
        _nfa.Epsilon(e, exponentSign);
        _nfa.Bytes(e, (byte)'+', (byte)'+', exponentSign);
        _nfa.Bytes(e, (byte)'-', (byte)'-', exponentSign);
        int exponent = exponentSign;
        for (int i = 0; i < MaxExponentDigits; i++)
        {
            exponent = _nfa.Step(exponent, (byte)'0', (byte)'9');
            _nfa.Epsilon(exponent, end);
        }
        return end;
    }

    int Object(int from, JsonElement schema, string path, int freeLevels)
    {
        var properties = new List<(string Name, JsonElement Schema)>();
        if (schema.TryGetProperty("properties", out var declared))
        {
            if (declared.ValueKind != JsonValueKind.Object) throw Fail($"'{path}.properties' must be an object.");
            foreach (var p in declared.EnumerateObject()) properties.Add((p.Name, p.Value));
        }
        var required = new HashSet<string>(StringComparer.Ordinal);
        if (schema.TryGetProperty("required", out var names))
        {
            if (names.ValueKind != JsonValueKind.Array || names.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
                throw Fail($"'{path}.required' must be an array of strings.");
            foreach (var e in names.EnumerateArray()) required.Add(e.GetString()!);
        }
        JsonElement? additional = schema.TryGetProperty("additionalProperties", out var a) ? a : null;
        if (additional is { ValueKind: not (JsonValueKind.True or JsonValueKind.False or JsonValueKind.Object) })
            throw Fail($"'{path}.additionalProperties' must be a boolean or a JSON Schema object.");
        if (properties.Count == 0 && required.Count == 0)
        {
            if (additional is { ValueKind: JsonValueKind.False }) return _nfa.Literal(_nfa.Whitespace(_nfa.Literal(from, "{"u8)), "}"u8);
            return FreeObject(from, additional is { ValueKind: JsonValueKind.Object } s ? s : null, $"{path}.additionalProperties", freeLevels);
        }
        foreach (var name in required)
            if (properties.All(p => p.Name != name)) properties.Add((name, default)); // required but undeclared: any value

        // none[i] / some[i]: before property i with no property / some property written (a comma comes first).
        int n = properties.Count;
        int open = _nfa.Whitespace(_nfa.Literal(from, "{"u8));
        var none = new int[n + 1];
        var some = new int[n + 1];
        none[0] = open;
        some[0] = -1;
        for (int i = 0; i < n; i++)
        {
            var (name, propertySchema) = properties[i];
            string propertyPath = $"{path}.properties.{name}";
            none[i + 1] = _nfa.Add();
            some[i + 1] = _nfa.Add();
            bool optional = !required.Contains(name);
            if (optional) _nfa.Epsilon(none[i], none[i + 1]);
            // One copy of the property, entered without a comma as the first one written or after one: it always
            // ends with something written (copying it per way in would double the automaton at every nesting level).
            int start = _nfa.Add();
            _nfa.Epsilon(none[i], start);
            if (some[i] >= 0)
            {
                if (optional) _nfa.Epsilon(some[i], some[i + 1]);
                _nfa.Epsilon(_nfa.Whitespace(_nfa.Literal(some[i], ","u8)), start);
            }
            _nfa.Epsilon(Property(start, name, propertySchema, propertyPath, freeLevels), some[i + 1]);
        }
        int close = _nfa.Add();
        _nfa.Epsilon(some[n], close);
        if (properties.All(p => !required.Contains(p.Name))) _nfa.Epsilon(none[n], close);
        return _nfa.Literal(close, "}"u8);
    }

    /// <summary>"name" ws : ws value ws</summary>
    int Property(int from, string name, JsonElement schema, string path, int freeLevels)
    {
        int key = _nfa.Whitespace(_nfa.Literal(from, Quote(name)));
        int colon = _nfa.Whitespace(_nfa.Literal(key, ":"u8));
        int value = schema.ValueKind == JsonValueKind.Undefined ? Any(colon, freeLevels) : Value(colon, schema, path, freeLevels);
        return _nfa.Whitespace(value);
    }

    /// <summary>{ ws ("key" ws : ws value ws ("," ws "key" ws : ws value ws)*)? } with one copy of the key and value automata.</summary>
    int FreeObject(int from, JsonElement? valueSchema, string path, int freeLevels)
    {
        int open = _nfa.Whitespace(_nfa.Literal(from, "{"u8));
        int close = _nfa.Add();
        _nfa.Epsilon(open, close);
        if (freeLevels > 0) // without levels left, only {}
        {
            int keyStart = _nfa.Add();
            _nfa.Epsilon(open, keyStart);
            int key = _nfa.Whitespace(String(keyStart));
            int colon = _nfa.Whitespace(_nfa.Literal(key, ":"u8));
            int value = _nfa.Whitespace(valueSchema is { } v ? Value(colon, v, path, freeLevels - 1) : Any(colon, freeLevels - 1));
            _nfa.Epsilon(value, close);
            _nfa.Epsilon(_nfa.Whitespace(_nfa.Literal(value, ","u8)), keyStart);
        }
        return _nfa.Literal(close, "}"u8);
    }

    int Array(int from, JsonElement schema, string path, int freeLevels)
    {
        int min = Bound(schema, "minItems", path) ?? 0;
        int? max = Bound(schema, "maxItems", path);
        if (max < min) throw Fail($"'{path}.maxItems' ({max}) is less than 'minItems' ({min}).");
        if (schema.TryGetProperty("items", out var items))
        {
            if (items.ValueKind is not (JsonValueKind.Object or JsonValueKind.True)) throw Fail($"'{path}.items' must be a JSON Schema object ('prefixItems'-style arrays are not supported).");
            return Items(from, items, min, max, $"{path}.items", freeLevels);
        }
        if (freeLevels == 0)
        {
            if (min > 0) throw Fail($"'{path}': an array without 'items' nested deeper than {MaxFreeDepth} free-form levels must allow zero items.");
            return Items(from, null, 0, 0, path, 0);
        }
        return Items(from, null, min, max, path, freeLevels - 1);
    }

    static int? Bound(JsonElement schema, string keyword, string path)
    {
        if (!schema.TryGetProperty(keyword, out var v)) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int n) || n < 0) throw Fail($"'{path}.{keyword}' must be a non-negative integer.");
        if (n > MaxItemsBound) throw Fail($"'{path}.{keyword}' above {MaxItemsBound} is not supported.");
        return n;
    }

    /// <summary>[ ws (item ws ("," ws item ws)*)? ] with min/max unrolled, else one looping copy of the item.</summary>
    int Items(int from, JsonElement? items, int min, int? max, string path, int itemLevels)
    {
        int open = _nfa.Whitespace(_nfa.Literal(from, "["u8));
        int close = _nfa.Add();
        if (min == 0) _nfa.Epsilon(open, close);
        if (max != 0)
        {
            int Item(int at, bool first)
            {
                if (!first) at = _nfa.Whitespace(_nfa.Literal(at, ","u8));
                return _nfa.Whitespace(items is { } s ? Value(at, s, path, itemLevels) : Any(at, itemLevels));
            }
            int at = Item(open, first: true);
            int count = 1;
            if (count >= min) _nfa.Epsilon(at, close);
            while (count < (max ?? min))
            {
                at = Item(at, first: false);
                count++;
                if (count >= min) _nfa.Epsilon(at, close);
            }
            if (max is null)
            {
                // Past minItems: one looping copy ("," item)* — it returns to a state whose only ways on are "," and ws-then-"]".
                int loop = _nfa.Add();
                _nfa.Epsilon(at, loop);
                _nfa.Epsilon(loop, close);
                _nfa.Epsilon(Item(loop, first: false), loop);
            }
        }
        return _nfa.Literal(close, "]"u8);
    }

    /// <summary>A JSON string literal of <paramref name="text"/> as compact UTF-8.</summary>
    static byte[] Quote(string text)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, Compact)) writer.WriteStringValue(text);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A JSON value as compact UTF-8 (enum and const literals).</summary>
    static byte[] Serialize(JsonElement value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, Compact)) value.WriteTo(writer);
        return buffer.WrittenSpan.ToArray();
    }
}

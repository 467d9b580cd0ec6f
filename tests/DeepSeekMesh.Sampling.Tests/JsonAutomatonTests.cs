using System.Text;
using DeepSeekMesh.Sampling.Structured;

namespace DeepSeekMesh.Sampling.Tests;

/// <summary>The byte automata of response formats: what they accept and refuse, byte by byte.</summary>
public class JsonAutomatonTests
{
    static bool Accepts(string schema, string text) => ByteAutomaton.FromSchema(schema).Accepts(Encoding.UTF8.GetBytes(text));

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"a":1}""")]
    [InlineData("""{ "a" : "x" }""")]
    [InlineData("{\n  \"a\": [1, -2.5e+3, true, false, null, {\"b\": \"c\"}],\n  \"d\": {}\n}")]
    [InlineData("""{"k":"é😀\n\t\"\\\/\u00e9"}""")]
    [InlineData("""{"a":{"b":{"c":{"d":1}}}}""")]
    [InlineData("""{"a":0.5,"b":-0,"c":1E-5}""")]
    [InlineData("""{"a":1,"a":2}""")]
    public void Json_object_accepts_json_objects(string text) => Assert.True(Accepts(ByteAutomaton.JsonObjectSchema, text));

    [Theory]
    [InlineData("[]")]
    [InlineData("\"x\"")]
    [InlineData("""{"a":}""")]
    [InlineData("""{"a":1,}""")]
    [InlineData("""{,"a":1}""")]
    [InlineData("""{"a":01}""")]
    [InlineData("""{"a":1.}""")]
    [InlineData("""{"a":1e123}""")]
    [InlineData("""{"a" 1}""")]
    [InlineData("""{"a":"\ud800"}""")]
    [InlineData("""{"a":"\x"}""")]
    [InlineData("{\"a\":\"\u0001\"}")]
    [InlineData(" {}")]
    [InlineData("{} ")]
    [InlineData("{         }")] // nine spaces: whitespace runs are bounded
    [InlineData("""{"a":{"b":{"c":{"d":{}}}}}""")] // five containers deep
    [InlineData("""{"a":1234567890123456}""")] // sixteen digits
    [InlineData("""{"a":tru}""")]
    public void Json_object_refuses_everything_else(string text) => Assert.False(Accepts(ByteAutomaton.JsonObjectSchema, text));

    [Fact]
    public void Strings_must_be_valid_utf8()
    {
        var automaton = ByteAutomaton.FromSchema("""{"type":"string"}""");
        Assert.True(automaton.Accepts([(byte)'"', 0xC3, 0xA9, (byte)'"']));
        Assert.True(automaton.Accepts([(byte)'"', 0xF0, 0x9F, 0x98, 0x80, (byte)'"']));
        Assert.False(automaton.Accepts([(byte)'"', 0xC0, 0x80, (byte)'"'])); // overlong
        Assert.False(automaton.Accepts([(byte)'"', 0xED, 0xA0, 0x80, (byte)'"'])); // surrogate
        Assert.False(automaton.Accepts([(byte)'"', 0xC3, (byte)'"'])); // truncated
        Assert.False(automaton.Accepts([(byte)'"', 0xF4, 0x90, 0x80, 0x80, (byte)'"'])); // above U+10FFFF
    }

    const string Person = """
        {"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"},"c":{"type":["boolean","null"]}},"required":["a","c"]}
        """;

    [Theory]
    [InlineData(Person, """{"a":1,"c":null}""", true)]
    [InlineData(Person, """{"a":-12,"b":"x","c":true}""", true)]
    [InlineData(Person, """{ "a" : 1 , "c" : false }""", true)]
    [InlineData(Person, """{"a":1}""", false)] // c is required
    [InlineData(Person, """{"c":null,"a":1}""", false)] // declared order
    [InlineData(Person, """{"a":1.5,"c":null}""", false)] // integer
    [InlineData(Person, """{"a":1,"c":null,"d":2}""", false)] // no other keys
    [InlineData(Person, """{"a":1,"b":2,"c":null}""", false)]
    [InlineData("""{"properties":{"x":{"type":"number"}}}""", "{}", true)] // nothing required
    [InlineData("""{"properties":{"x":{"type":"number"}}}""", """{"x":1e5}""", true)]
    [InlineData("""{"enum":["red",1,null,{"k":[true]}]}""", "\"red\"", true)]
    [InlineData("""{"enum":["red",1,null,{"k":[true]}]}""", """{"k":[true]}""", true)]
    [InlineData("""{"enum":["red",1,null,{"k":[true]}]}""", "\"blue\"", false)]
    [InlineData("""{"const":"ü"}""", "\"ü\"", true)]
    [InlineData("""{"const":"ü"}""", "\"u\"", false)]
    [InlineData("""{"type":"array","items":{"type":"boolean"},"minItems":1,"maxItems":2}""", "[]", false)]
    [InlineData("""{"type":"array","items":{"type":"boolean"},"minItems":1,"maxItems":2}""", "[true]", true)]
    [InlineData("""{"type":"array","items":{"type":"boolean"},"minItems":1,"maxItems":2}""", "[true, false]", true)]
    [InlineData("""{"type":"array","items":{"type":"boolean"},"minItems":1,"maxItems":2}""", "[true,false,true]", false)]
    [InlineData("""{"type":"array","items":{"type":"integer"},"minItems":2}""", "[1,2,3,4,5]", true)]
    [InlineData("""{"type":"array","items":{"type":"integer"},"minItems":2}""", "[1]", false)]
    [InlineData("""{"type":"object","additionalProperties":false}""", "{}", true)]
    [InlineData("""{"type":"object","additionalProperties":false}""", """{"a":1}""", false)]
    [InlineData("""{"type":"object","additionalProperties":{"type":"integer"}}""", """{"a":1,"b":2}""", true)]
    [InlineData("""{"type":"object","additionalProperties":{"type":"integer"}}""", """{"a":"x"}""", false)]
    [InlineData("""{"anyOf":[{"type":"integer"},{"type":"array","items":{"type":"string"}}]}""", "[\"a\"]", true)]
    [InlineData("""{"anyOf":[{"type":"integer"},{"type":"array","items":{"type":"string"}}]}""", "true", false)]
    [InlineData("""{"type":"object","properties":{"p":{"type":"object","properties":{"q":{"type":"array","items":{"type":"object","properties":{"r":{"type":"null"}},"required":["r"]}}},"required":["q"]}},"required":["p"]}""",
        """{"p":{"q":[{"r":null},{"r":null}]}}""", true)]
    [InlineData("""{"type":"object","properties":{"p":{"type":"object","properties":{"q":{"type":"array","items":{"type":"object","properties":{"r":{"type":"null"}},"required":["r"]}}},"required":["q"]}},"required":["p"]}""",
        """{"p":{"q":[{}]}}""", false)]
    public void Schemas_accept_what_they_describe(string schema, string text, bool valid) => Assert.Equal(valid, Accepts(schema, text));

    [Theory]
    [InlineData("""{"type":"string","pattern":"^a$"}""", "pattern")]
    [InlineData("""{"$ref":"#/$defs/x"}""", "$ref")]
    [InlineData("""{"oneOf":[{"type":"string"}]}""", "oneOf")]
    [InlineData("""{"type":"object","properties":{"x":{"type":"string","minLength":3}}}""", "minLength")]
    [InlineData("""{"type":"string","format":"date-time"}""", "format")]
    [InlineData("""{"type":"uuid"}""", "uuid")]
    [InlineData("""{"type":"array","maxItems":1000}""", "maxItems")]
    [InlineData("""not json""", "not valid JSON")]
    public void Unsupported_schemas_are_refused_naming_the_keyword(string schema, string named)
    {
        var e = Assert.Throws<SamplingParamsException>(() => ByteAutomaton.FromSchema(schema));
        Assert.Equal("response_format", e.ParameterName);
        Assert.Contains(named, e.Message);
    }

    [Fact]
    public void Distance_to_accept_is_the_shortest_completion()
    {
        var automaton = ByteAutomaton.FromSchema(Person);
        Assert.Equal("""{"a":0,"c":null}""".Length, automaton.MinBytesToAccept(ByteAutomaton.Start));
        int state = automaton.Walk(ByteAutomaton.Start, """{"a":12,"b":"xy"""u8);
        Assert.Equal("\",\"c\":null}".Length, automaton.MinBytesToAccept(state));
        Assert.Equal(2, ByteAutomaton.FromSchema(ByteAutomaton.JsonObjectSchema).MinBytesToAccept(ByteAutomaton.Start));
    }

    [Fact]
    public void Min_tokens_and_too_small_max_tokens_are_refused_with_a_response_format()
    {
        var p = new SamplingParams { JsonSchema = Person };
        Assert.Equal("min_tokens", Assert.Throws<SamplingParamsException>(() => (p with { MinTokens = 3, MaxTokens = 50 }).Validate(100)).ParameterName);
        Assert.Equal("max_tokens", Assert.Throws<SamplingParamsException>(() => (p with { MaxTokens = 10 }).Validate(100)).ParameterName);
        (p with { MaxTokens = 16 }).Validate(100);
    }
}

using System.Text.Json.Nodes;

namespace DeepSeekMesh.ChatTemplates.Tests.Templates;

/// <summary>
/// A Llama-3.x-style template written for these tests. It relies on trim_blocks/lstrip_blocks (tags on lines of
/// their own vanish with their newline), explicit "-" markers, strftime_now, tools via tojson(indent=4), and a
/// mid-line if whose trailing newline is eaten by trim_blocks. Expected strings were worked out by hand.
/// </summary>
public class LlamaStyleTemplateTests
{
    internal const string Template = """
        {{- bos_token }}
        {%- if messages[0].role == 'system' %}
            {%- set system_message = messages[0].content | trim %}
            {%- set loop_messages = messages[1:] %}
        {%- else %}
            {%- set system_message = '' %}
            {%- set loop_messages = messages %}
        {%- endif %}
        <|start_header_id|>system<|end_header_id|>

        Cutting Knowledge Date: December 2023
        Today Date: {{ strftime_now('%d %b %Y') }}
        {% if tools is not none %}

        You have access to the following functions:
        {% for t in tools %}
        {{ t | tojson(indent=4) }}
        {% endfor %}
        {% endif %}

        {{ system_message }}<|eot_id|>
        {% for message in loop_messages %}
        {% if message.role == 'assistant' and message.tool_calls is defined %}
        <|start_header_id|>assistant<|end_header_id|>

        {% for tc in message.tool_calls %}
        {"name": "{{ tc.function.name }}", "parameters": {{ tc.function.arguments | tojson }}}{% if not loop.last %}; {% endif %}
        {% endfor %}
        <|eot_id|>
        {% elif message.role == 'tool' %}
        <|start_header_id|>ipython<|end_header_id|>

        {{ message.content | trim }}<|eot_id|>
        {% else %}
        <|start_header_id|>{{ message.role }}<|end_header_id|>

        {{ message.content | trim }}<|eot_id|>
        {% endif %}
        {% endfor %}
        {% if add_generation_prompt %}
        <|start_header_id|>assistant<|end_header_id|>

        {% endif %}

        """;

    private static readonly FixedClock Clock = new(new DateTimeOffset(2024, 7, 26, 9, 30, 0, TimeSpan.Zero));

    internal static JsonNode WeatherTool() => JsonNode.Parse("""
        {"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
         "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
        """)!;

    private static ChatTemplateRenderer Renderer() => new(Template) { ToolCallArgumentsAsObjects = true, Clock = Clock };

    [Fact]
    public void SystemToolsToolCallsAndGenerationPrompt()
    {
        var messages = new List<ChatMessage>
        {
            ChatMessage.System("  You are a helpful assistant.  "),
            ChatMessage.User("What's the weather in Paris?"),
            ChatMessage.Assistant(null, [ToolCall.Function("get_weather", "{\"city\": \"Paris\"}"), ToolCall.Function("get_time", "{\"tz\":\"CET\"}")]),
            ChatMessage.Tool("{\"temp\": 21}\n"),
            ChatMessage.Assistant("It is 21 degrees."),
            ChatMessage.User("Thanks!"),
        };

        string toolJson = string.Join("\n",
            "{",
            "    \"type\": \"function\",",
            "    \"function\": {",
            "        \"name\": \"get_weather\",",
            "        \"description\": \"Weather for a city\",",
            "        \"parameters\": {",
            "            \"type\": \"object\",",
            "            \"properties\": {",
            "                \"city\": {",
            "                    \"type\": \"string\"",
            "                }",
            "            },",
            "            \"required\": [",
            "                \"city\"",
            "            ]",
            "        }",
            "    }",
            "}");

        string expected =
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
            + "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n"
            + "\nYou have access to the following functions:\n"
            + toolJson + "\n"
            + "\nYou are a helpful assistant.<|eot_id|>\n"
            + "<|start_header_id|>user<|end_header_id|>\n\nWhat's the weather in Paris?<|eot_id|>\n"
            + "<|start_header_id|>assistant<|end_header_id|>\n\n"
            + "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}; {\"name\": \"get_time\", \"parameters\": {\"tz\": \"CET\"}}<|eot_id|>\n"
            + "<|start_header_id|>ipython<|end_header_id|>\n\n{\"temp\": 21}<|eot_id|>\n"
            + "<|start_header_id|>assistant<|end_header_id|>\n\nIt is 21 degrees.<|eot_id|>\n"
            + "<|start_header_id|>user<|end_header_id|>\n\nThanks!<|eot_id|>\n"
            + "<|start_header_id|>assistant<|end_header_id|>\n\n";

        string actual = Renderer().RenderChat(messages, addGenerationPrompt: true, "<|begin_of_text|>", "<|eot_id|>", [WeatherTool()]);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void NoSystemNoToolsNoGenerationPrompt()
    {
        string expected =
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
            + "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n"
            + "\n<|eot_id|>\n"
            + "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>\n";
        string actual = Renderer().RenderChat([ChatMessage.User("Hi")], addGenerationPrompt: false, "<|begin_of_text|>", "<|eot_id|>");
        Assert.Equal(expected, actual);
    }
}

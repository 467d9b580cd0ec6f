namespace DeepSeekMesh.ChatTemplates.Tests.Templates;

/// <summary>
/// A Qwen-2.5-style (ChatML) template written for these tests: a macro for tool calls, system messages gathered
/// with selectattr/map/join, tools one per line via tojson, a filtered loop using loop.previtem/nextitem to group
/// consecutive tool results, and "default([])" for absent tool_calls. Expected strings were worked out by hand.
/// </summary>
public class QwenStyleTemplateTests
{
    internal const string Template = """
        {%- macro render_tool_call(call) -%}
            {{- '<tool_call>\n{"name": ' + call.name | tojson + ', "arguments": ' + call.arguments | tojson + '}\n</tool_call>' -}}
        {%- endmacro -%}
        {%- set system_parts = messages | selectattr('role', 'equalto', 'system') | map(attribute='content') | list -%}
        {{- '<|im_start|>system\n' -}}
        {{- system_parts | join('\n') if system_parts else 'You are a helpful assistant.' -}}
        {%- if tools -%}
            {{- '\n\n# Tools\n\n<tools>' -}}
            {%- for tool in tools -%}
                {{- '\n' + tool | tojson -}}
            {%- endfor -%}
            {{- '\n</tools>' -}}
        {%- endif -%}
        {{- '<|im_end|>\n' -}}
        {%- for message in messages if message.role != 'system' -%}
            {%- if message.role == 'tool' -%}
                {%- if loop.first or loop.previtem.role != 'tool' -%}
                    {{- '<|im_start|>user' -}}
                {%- endif -%}
                {{- '\n<tool_response>\n' + message.content + '\n</tool_response>' -}}
                {%- if loop.last or loop.nextitem.role != 'tool' -%}
                    {{- '<|im_end|>\n' -}}
                {%- endif -%}
            {%- else -%}
                {{- '<|im_start|>' + message.role -}}
                {%- if message.content -%}
                    {{- '\n' + message.content -}}
                {%- endif -%}
                {%- for tc in message.tool_calls | default([]) -%}
                    {{- '\n' + render_tool_call(tc.function if tc.function is defined else tc) -}}
                {%- endfor -%}
                {{- '<|im_end|>\n' -}}
            {%- endif -%}
        {%- endfor -%}
        {%- if add_generation_prompt -%}
            {{- '<|im_start|>assistant\n' -}}
        {%- endif -%}
        """;

    [Fact]
    public void ToolsToolCallsGroupedToolResponsesAndGenerationPrompt()
    {
        var renderer = new ChatTemplateRenderer(Template) { ToolCallArgumentsAsObjects = true };
        var messages = new List<ChatMessage>
        {
            ChatMessage.System("You are Qwen."),
            ChatMessage.User("What's the weather in Paris and Rome?"),
            ChatMessage.Assistant(null, [ToolCall.Function("get_weather", "{\"city\": \"Paris\"}"), ToolCall.Function("get_weather", "{\"city\":\"Rome\"}")]),
            ChatMessage.Tool("{\"temp\": 21}"),
            ChatMessage.Tool("{\"temp\": 25}"),
            ChatMessage.Assistant("Paris 21, Rome 25."),
            ChatMessage.User("Thanks"),
        };

        string expected =
            "<|im_start|>system\nYou are Qwen.\n\n# Tools\n\n<tools>\n"
            + "{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Weather for a city\", "
            + "\"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}, \"required\": [\"city\"]}}}"
            + "\n</tools><|im_end|>\n"
            + "<|im_start|>user\nWhat's the weather in Paris and Rome?<|im_end|>\n"
            + "<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>"
            + "\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\"}}\n</tool_call><|im_end|>\n"
            + "<|im_start|>user\n<tool_response>\n{\"temp\": 21}\n</tool_response>\n<tool_response>\n{\"temp\": 25}\n</tool_response><|im_end|>\n"
            + "<|im_start|>assistant\nParis 21, Rome 25.<|im_end|>\n"
            + "<|im_start|>user\nThanks<|im_end|>\n"
            + "<|im_start|>assistant\n";

        string actual = renderer.RenderChat(messages, addGenerationPrompt: true, null, "<|im_end|>", [LlamaStyleTemplateTests.WeatherTool()]);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void DefaultSystemPromptWithoutTools()
    {
        var renderer = new ChatTemplateRenderer(Template);
        string actual = renderer.RenderChat([ChatMessage.User("Hi")], addGenerationPrompt: false, null, null);
        Assert.Equal("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n", actual);
    }

    [Fact]
    public void SeveralSystemMessagesAreJoined()
    {
        var renderer = new ChatTemplateRenderer(Template);
        string actual = renderer.RenderChat([ChatMessage.System("A"), ChatMessage.System("B"), ChatMessage.User("x")], addGenerationPrompt: true, null, null);
        Assert.Equal("<|im_start|>system\nA\nB<|im_end|>\n<|im_start|>user\nx<|im_end|>\n<|im_start|>assistant\n", actual);
    }
}

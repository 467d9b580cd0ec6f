namespace DeepSeekMesh.Gateway.Serving;

/// <summary>How a chat completion's text is parsed: reasoning split off (<c>reasoning_content</c>), tool calls found (<c>tool_calls</c>).</summary>
/// <param name="ParallelToolCalls">False: only the first tool call is kept (<c>parallel_tool_calls: false</c>).</param>
/// <param name="PromptOpenedThink">The rendered prompt ends with <c>&lt;think&gt;</c>: the output starts inside the reasoning.</param>
public sealed record ChatParsing(bool Reasoning, bool ToolCalls, bool ParallelToolCalls, bool PromptOpenedThink);

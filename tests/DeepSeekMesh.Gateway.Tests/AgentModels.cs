using DeepSeekMesh.Text.Agents;

namespace DeepSeekMesh.Gateway.Tests;

/// <summary>
/// The scripted checkpoints of the agent tests. Tool-call texts use whitespace variants (<c>" \n"</c> after
/// <c>json</c>, <c>"\n\n"</c> and <c>"``"+"`"</c> before the call end) where the template's exact newlines
/// would repeat a token with a successor that no greedy walk can pick, and a tab between the calls
/// (a newline was already generated there); the parser skips whitespace between calls and trims names and arguments.
/// </summary>
public static class AgentModels
{
    const string Begin = DeepSeekToolCallParser.CallsBegin, End = DeepSeekToolCallParser.CallsEnd;
    const string CallBegin = DeepSeekToolCallParser.CallBegin, CallEnd = DeepSeekToolCallParser.CallEnd, Sep = DeepSeekToolCallParser.Separator;
    const string Assistant = "<｜Assistant｜>", ToolOutputsEnd = "<｜tool▁outputs▁end｜>", Eos = "<｜end▁of▁sentence｜>";

    public const string Reasoning = "The user wants the weather and the time.";
    public const string Content = "Let me check.";
    public const string WeatherArguments = "{\"city\": \"Paris\"}", TimeArguments = "{\"zone\": \"CET\"}";
    public const string Answer = "Sunny, 21 degrees!";
    public const string Malformed = "Sure." + Begin + CallBegin + "function" + Sep + "get_weather\n```json \n{\"city\": \"Par";

    static string[] Call(string name, string arguments) => [CallBegin, "function", Sep, name, "\n", "```", "json", " \n", arguments, "\n\n", "``", "`", CallEnd];

    /// <summary>After a user turn: reasoning, a sentence, two parallel calls; after tool results: the answer.</summary>
    public static readonly string[] CallsScript =
        [Assistant, "<think>", Reasoning, "</think>", Content, Begin, .. Call("get_weather", WeatherArguments), "\t", .. Call("get_time", TimeArguments), End, Eos];

    public static readonly string[] AnswerScript = [ToolOutputsEnd, Answer, Eos];

    /// <summary>After a user turn: a tool call cut off in its arguments (no think tokens in this model's vocabulary).</summary>
    public static readonly string[] MalformedScript = [Assistant, "Sure.", Begin, CallBegin, "function", Sep, "get_weather", "\n", "```", "json", " \n", "{\"city\": \"Par", Eos];

    /// <summary>What the calls script decodes to, without the trigger and the end of sentence.</summary>
    public static string CallsText => string.Concat(CallsScript[1..^1]);

    static readonly string Root = Scratch.Named("agent-tests");
    static readonly Lazy<string> AgentDir = new(() => ScriptedCheckpoint.Write(Path.Combine(Root, "agent"), [CallsScript, AnswerScript], thinkTokens: true));
    static readonly Lazy<string> MalformedDir = new(() => ScriptedCheckpoint.Write(Path.Combine(Root, "malformed"), [MalformedScript], thinkTokens: false));

    /// <summary>R1-style (think tokens): reasoning, parallel calls, and an answer to tool results.</summary>
    public static string Agent => AgentDir.Value;

    /// <summary>V3 (no think tokens): malformed tool output.</summary>
    public static string MalformedTools => MalformedDir.Value;
}

/// <summary>The agent model served with the reasoning parser on (Gateway:Reasoning).</summary>
public sealed class AgentServer : GatewayServer
{
    protected override string ModelDirectory => AgentModels.Agent;
    protected override void Configure(GatewayOptions options) => options.Reasoning = true;
}

/// <summary>The malformed-tool-output model, reasoning option on (its vocabulary has no think tokens, so it stays off).</summary>
public sealed class MalformedToolServer : GatewayServer
{
    protected override string ModelDirectory => AgentModels.MalformedTools;
    protected override void Configure(GatewayOptions options) => options.Reasoning = true;
}

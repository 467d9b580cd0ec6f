namespace DeepSeekMesh.Text.Agents;

/// <summary>How much of a text's end could still grow into a tag: the streaming parsers hold that much back.</summary>
static class PartialTag
{
    /// <summary>The length of the longest suffix of <paramref name="text"/> that is a proper prefix of one of <paramref name="tags"/>.</summary>
    public static int HeldBack(string text, params ReadOnlySpan<string> tags)
    {
        int longest = 0;
        foreach (var tag in tags)
            for (int n = Math.Min(tag.Length - 1, text.Length); n > longest; n--)
                if (text.AsSpan(text.Length - n).SequenceEqual(tag.AsSpan(0, n)))
                {
                    longest = n;
                    break;
                }
        return longest;
    }
}

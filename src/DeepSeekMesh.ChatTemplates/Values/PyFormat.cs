using System.Globalization;
using System.Text;

namespace DeepSeekMesh.ChatTemplates.Values;

/// <summary>Python's textual forms of numbers and strings.</summary>
internal static class PyFormat
{
    /// <summary>Python <c>repr(float)</c>: shortest round-trip digits, fixed notation for exponents -4..15.</summary>
    public static string FloatRepr(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsPositiveInfinity(d)) return "inf";
        if (double.IsNegativeInfinity(d)) return "-inf";
        if (d == 0) return double.IsNegative(d) ? "-0.0" : "0.0";

        string r = d.ToString("R", CultureInfo.InvariantCulture);
        bool negative = r[0] == '-';
        if (negative) r = r[1..];
        int exp = 0;
        int e = r.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            exp = int.Parse(r.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            r = r[..e];
        }
        int dot = r.IndexOf('.');
        string intPart = dot >= 0 ? r[..dot] : r;
        string frac = dot >= 0 ? r[(dot + 1)..] : "";
        string digits = intPart + frac;
        int point = intPart.Length + exp; // digits before the decimal point
        int lead = 0;
        while (lead < digits.Length - 1 && digits[lead] == '0') lead++;
        digits = digits[lead..];
        point -= lead;
        digits = digits.TrimEnd('0');
        if (digits.Length == 0) digits = "0";
        int sciExp = point - 1;

        var sb = new StringBuilder();
        if (negative) sb.Append('-');
        if (sciExp >= -4 && sciExp < 16)
        {
            if (point <= 0)
            {
                sb.Append("0.").Append('0', -point).Append(digits);
            }
            else if (point >= digits.Length)
            {
                sb.Append(digits).Append('0', point - digits.Length).Append(".0");
            }
            else
            {
                sb.Append(digits, 0, point).Append('.').Append(digits, point, digits.Length - point);
            }
        }
        else
        {
            sb.Append(digits[0]);
            if (digits.Length > 1) sb.Append('.').Append(digits, 1, digits.Length - 1);
            sb.Append('e').Append(sciExp < 0 ? '-' : '+').Append(Math.Abs(sciExp).ToString("00", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    /// <summary>Python <c>repr(str)</c>.</summary>
    public static string StringRepr(string s)
    {
        char quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        var sb = new StringBuilder(s.Length + 2);
        sb.Append(quote);
        foreach (char c in s)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c == quote) sb.Append('\\').Append(c);
                    else if (c < 0x20 || c == 0x7F) sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append(quote).ToString();
    }
}

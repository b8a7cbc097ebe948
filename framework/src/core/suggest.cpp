#include "opgraph/core/suggest.hpp"

#include <algorithm>
#include <cctype>

namespace opgraph {

namespace {

// Optimal string alignment distance, case-insensitive.
std::size_t edit_distance(const std::string& a, const std::string& b) {
    const std::size_t n = a.size(), m = b.size();
    std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
    for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
    auto same = [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) ==
               std::tolower(static_cast<unsigned char>(y));
    };
    for (std::size_t i = 1; i <= n; ++i) {
        for (std::size_t j = 1; j <= m; ++j) {
            const std::size_t cost = same(a[i - 1], b[j - 1]) ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && same(a[i - 1], b[j - 2]) && same(a[i - 2], b[j - 1]))
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[n][m];
}

// Longest word lengths compared; longer inputs are never worth a suggestion.
constexpr std::size_t kMaxWordLength = 64;

}  // namespace

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
    if (word.empty() || word.size() > kMaxWordLength) return {};
    std::string best;
    std::size_t best_distance = SIZE_MAX;
    for (const std::string& c : candidates) {
        if (c.size() > kMaxWordLength) continue;
        const std::size_t dist = edit_distance(word, c);
        if (dist < best_distance) {
            best_distance = dist;
            best = c;
        }
    }
    // A plausible typo: at most a third of the longer word, and never the whole word.
    const std::size_t longest = std::max(word.size(), best.size());
    if (best.empty() || best == word || best_distance * 3 > longest + 1) return {};
    return best;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
    const std::string match = closest_match(word, candidates);
    return match.empty() ? std::string{} : " (did you mean '" + match + "'?)";
}

}  // namespace opgraph

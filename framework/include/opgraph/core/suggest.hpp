// "Did you mean" suggestions for misspelt names.
#pragma once

#include <string>
#include <vector>

namespace opgraph {

// The candidate closest to `word` by edit distance (transpositions count once), or empty
// when none is close enough to be a plausible typo.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

// " (did you mean 'relu'?)" or "".
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace opgraph

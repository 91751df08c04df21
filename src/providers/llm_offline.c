/*
 * The offline draft writer: no model, no network. It writes a script of
 * the asked length (scenes, and words per scene when the brief asks for
 * them) from templates in the persona's language (English and
 * Brazilian Portuguese; other languages get English and are told so), so
 * the whole pipeline runs on a fresh machine. The shape is a hook, some
 * context, numbered points, a recap and a closing. Its visual
 * descriptions are images only, never on-screen text, captions or logos,
 * which the starter personas forbid. Template choice is a
 * hash of topic, persona and position, and the persona's temperature
 * widens the pool of variants: the same inputs always give the same
 * draft, and temperature 0 always gives the plainest one. Title and
 * description say it is an offline draft; it is never passed off as AI
 * output.
 */
#include "providers/llm_driver.h"

#include "base/buf.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define OFFLINE_VARIANTS 3
#define OFFLINE_EXTRAS   8
#define OFFLINE_TEXT_MAX (64 * 1024)

typedef enum offline_role {
    ROLE_HOOK,
    ROLE_CONTEXT,
    ROLE_POINT,
    ROLE_RECAP,
    ROLE_CLOSE
} offline_role;

/* One language's templates. In each: %1$s is the topic as it reads inside a
 * sentence, %2$d how many points there are, %3$d the point's number (an
 * argument may go unused only when no later one is used). */
typedef struct offline_lang {
    const char *tag;
    const char *title;       /* %s: topic */
    const char *description; /* %1$s topic, %2$s persona */
    const char *other_language;
    const char *instructions_note;
    const char *tag_word;
    const char *narration[5][OFFLINE_VARIANTS];
    const char *visual[5][OFFLINE_VARIANTS];
    /* Sentences that lengthen a scene's narration to the asked length, in
     * a scene-dependent order, none twice in a scene (%1$s: the topic). */
    const char *extra[OFFLINE_EXTRAS];
} offline_lang;

static const offline_lang OFFLINE_EN = {
    "en",
    "Offline draft: %s",
    "Offline draft about %1$s, written by the built-in offline draft writer from templates "
    "(no AI model was used), for persona %2$s. Edit it, or regenerate it once a model provider "
    "is configured.",
    " The offline writer has templates only for English and Brazilian Portuguese, so this draft "
    "is in English.",
    " Your extra instructions were kept with the request, but the offline writer cannot follow "
    "them.",
    "offline-draft",
    {
        {"Today's question: %1$s. In the next few minutes, we will find the answer together.",
         "Here is something worth a closer look: %1$s. It sounds simple, and it is not.",
         "Stop for a second and think about %1$s. Most people never do, and they miss a great "
         "story."},
        {"First, some background. To understand %1$s, it helps to know where the question comes "
         "from and why people keep asking it.",
         "Before the details, the big picture: %1$s touches ideas most of us meet every day "
         "without noticing.",
         "Let's set the stage. Every good answer about %1$s starts with the basics, so that is "
         "where we begin."},
        {"Point %3$d of %2$d. When we look closely at %1$s, one thing stands out: the simplest "
         "explanation is rarely the whole story.",
         "Point %3$d of %2$d. The story of %1$s depends on several causes working together, and "
         "each one changes the outcome in its own way.",
         "Point %3$d of %2$d. People who study %1$s often start from a surprising observation and "
         "work backwards to the reason behind it."},
        {"So, to sum up: %1$s is not one single fact but a chain of ideas, and we have just "
         "walked through %2$d of them.",
         "Let's recap. We started with a simple question about %1$s and found %2$d ideas that "
         "explain it.",
         "In short, %1$s makes sense once you see how the %2$d pieces we covered fit together."},
        {"That's it for today. If this look at %1$s was useful, subscribe, and tell us in the "
         "comments what we should explore next.",
         "Thanks for watching. Share this with someone who has wondered about %1$s, and see you "
         "in the next video.",
         "Now you know a little more about %1$s. Subscribe for more, and leave your questions "
         "below."},
    },
    {
        {"Slow push-in on a striking establishing shot that evokes %1$s.",
         "Fast montage of everyday images connected to %1$s, ending on a wide, quiet shot.",
         "Close-up that slowly pulls back to reveal the scene behind %1$s."},
        {"Wide aerial view of a landscape that sets the scene for %1$s.",
         "Archival-style footage in muted colours, showing where %1$s begins.",
         "An open notebook with pencil sketches about %1$s on a desk in warm morning light."},
        {"Detailed close-up for idea %3$d of %2$d about %1$s, one element in sharp focus.",
         "Split composition for idea %3$d of %2$d: an everyday object beside what it shows about "
         "%1$s.",
         "Slow tracking shot that shows idea %3$d of %2$d about %1$s at work."},
        {"Quick replay of the key shots about %1$s, one from each of the %2$d ideas.",
         "Calm wide shot connected to %1$s while the images of the %2$d ideas dissolve into it.",
         "Slow pull-back that gathers the images of the %2$d ideas about %1$s in one frame."},
        {"Closing shot connected to %1$s, fading slowly to black.",
         "A quiet final wide shot connected to %1$s as the light fades.",
         "Slow pull-back from a last image of %1$s into a dark, calm background."},
    },
    {
        "Think of it this way: %1$s looks different once you follow it one step at a time.",
        "It is worth pausing here, because this is the part of %1$s that most explanations skip.",
        "Picture it slowly, one small change after another, and %1$s starts to make sense.",
        "Here is what makes it click: every part of %1$s depends on the one that came before it.",
        "People have wondered about %1$s for a long time, and each answer added a piece to the "
        "puzzle.",
        "Keep this in mind, because it will matter again before the end of this video.",
        "None of this needs special knowledge; it only needs a careful look at %1$s.",
        "If that sounds surprising, you are in good company: it surprised the first people who "
        "studied it too.",
    },
};

static const offline_lang OFFLINE_PT = {
    "pt-BR",
    "Rascunho offline: %s",
    "Rascunho offline sobre %1$s, escrito pelo redator offline embutido a partir de modelos "
    "de texto (nenhum modelo de IA foi usado), para a persona %2$s. Edite-o, ou gere de novo "
    "quando um provedor de modelos estiver configurado.",
    "",
    " Suas instruções extras foram guardadas com o pedido, mas o redator offline não consegue "
    "segui-las.",
    "rascunho-offline",
    {
        {"A pergunta de hoje: %1$s. Nos próximos minutos, vamos descobrir a resposta juntos.",
         "Aqui está algo que merece um olhar mais atento: %1$s. Parece simples, mas não é.",
         "Pare um segundo e pense em %1$s. Quase ninguém pensa, e perde uma ótima história."},
        {"Primeiro, um pouco de contexto. Para entender %1$s, ajuda saber de onde vem a pergunta "
         "e por que tanta gente a faz.",
         "Antes dos detalhes, o quadro geral: %1$s toca em ideias que encontramos todos os dias "
         "sem perceber.",
         "Vamos preparar o terreno. Toda boa resposta sobre %1$s começa pelo básico, e é por aí "
         "que começamos."},
        {"Ponto %3$d de %2$d. Quando olhamos de perto para %1$s, uma coisa se destaca: a "
         "explicação mais simples raramente é a história toda.",
         "Ponto %3$d de %2$d. A história de %1$s depende de várias causas que agem juntas, e "
         "cada uma muda o resultado do seu jeito.",
         "Ponto %3$d de %2$d. Quem estuda %1$s costuma partir de uma observação surpreendente e "
         "voltar até a causa por trás dela."},
        {"Resumindo: %1$s não é um fato isolado, mas uma cadeia de ideias, e acabamos de "
         "percorrer %2$d delas.",
         "Recapitulando. Começamos com uma pergunta simples sobre %1$s e encontramos %2$d ideias "
         "que a explicam.",
         "Em resumo, %1$s faz sentido quando você vê como as %2$d peças que vimos se encaixam."},
        {"Por hoje é isso. Se este olhar sobre %1$s foi útil, inscreva-se e diga nos comentários "
         "o que devemos explorar a seguir.",
         "Obrigado por assistir. Compartilhe com alguém que já se perguntou sobre %1$s, e até o "
         "próximo vídeo.",
         "Agora você sabe um pouco mais sobre %1$s. Inscreva-se para mais, e deixe suas dúvidas "
         "aqui embaixo."},
    },
    {
        {"Aproximação lenta de uma imagem marcante que evoca %1$s.",
         "Montagem rápida de imagens do dia a dia ligadas a %1$s, terminando num plano aberto e "
         "calmo.",
         "Close que se afasta devagar e revela a cena por trás de %1$s."},
        {"Vista aérea ampla de uma paisagem que apresenta o contexto de %1$s.",
         "Imagens em estilo de arquivo, em cores suaves, mostrando a origem de %1$s.",
         "Um caderno aberto com esboços a lápis sobre %1$s numa mesa, sob a luz quente da manhã."},
        {"Close detalhado para a ideia %3$d de %2$d sobre %1$s, com um elemento em foco nítido.",
         "Composição dividida para a ideia %3$d de %2$d: um objeto do dia a dia ao lado do que ele "
         "mostra sobre %1$s.",
         "Travelling lento que mostra a ideia %3$d de %2$d sobre %1$s em ação."},
        {"Repetição rápida das imagens principais sobre %1$s, uma de cada uma das %2$d ideias.",
         "Plano aberto e calmo ligado a %1$s, enquanto as imagens das %2$d ideias se dissolvem "
         "nele.",
         "Afastamento lento que reúne as imagens das %2$d ideias sobre %1$s num só quadro."},
        {"Plano final ligado a %1$s, escurecendo devagar até o preto.",
         "Um último plano aberto e tranquilo ligado a %1$s enquanto a luz se apaga.",
         "Afastamento lento de uma última imagem de %1$s até um fundo escuro e calmo."},
    },
    {
        "Pense assim: %1$s parece diferente quando seguimos um passo de cada vez.",
        "Vale a pena parar aqui, porque esta é a parte de %1$s que quase toda explicação pula.",
        "Imagine devagar, uma pequena mudança depois da outra, e %1$s começa a fazer sentido.",
        "É isto que faz tudo se encaixar: cada parte de %1$s depende da que veio antes.",
        "Há muito tempo as pessoas se perguntam sobre %1$s, e cada resposta acrescentou uma peça "
        "ao quebra-cabeça.",
        "Guarde isto, porque vai importar de novo antes do fim deste vídeo.",
        "Nada disso exige conhecimento especial; basta olhar com atenção para %1$s.",
        "Se isso parece surpreendente, você está em boa companhia: surpreendeu também quem estudou "
        "o assunto primeiro.",
    },
};

/* FNV-1a: small, stable across platforms and releases, which is the point. */
static uint64_t offline__hash(uint64_t h, const char *s)
{
    if (h == 0)
        h = 1469598103934665603ull;
    for (; s && *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    h ^= 0xff; /* separates "ab"+"c" from "a"+"bc" */
    h *= 1099511628211ull;
    return h;
}

/* The role of scene i of n: a hook first, a closing last, a recap before it
 * and context after the hook when there is room; points in between. */
static offline_role offline__role(int i, int n, int *point, int *points)
{
    bool ctx = n >= 3, recap = n >= 5;
    int first_point = ctx ? 2 : 1;
    int last_point = n - 1 - (recap ? 2 : 1);
    *points = last_point >= first_point ? last_point - first_point + 1 : 0;
    *point = i - first_point + 1;
    if (i == 0)
        return ROLE_HOOK;
    if (i == n - 1)
        return ROLE_CLOSE;
    if (ctx && i == 1)
        return ROLE_CONTEXT;
    if (recap && i == n - 2)
        return ROLE_RECAP;
    return ROLE_POINT;
}

/* The topic as it reads inside a sentence: trailing punctuation dropped and
 * a capital lowered when the next letter is lower case ("Why is…" becomes
 * "why is…"; "NASA…" stays). */
static void offline__topic(const char *topic, char *out, size_t n)
{
    char core[2048];
    snprintf(core, sizeof(core), "%s", topic);
    size_t len = strlen(core);
    while (len > 0 && strchr(" \t\r\n.!?;:", core[len - 1]) != NULL)
        core[--len] = '\0';
    if (len >= 2 && isupper((unsigned char)core[0]) && islower((unsigned char)core[1]))
        core[0] = (char)tolower((unsigned char)core[0]);
    /* Quoted, so a question or a long phrase reads as one thing. */
    snprintf(out, n, "\xE2\x80\x9C%s\xE2\x80\x9D", core);
}

/* Cuts s to at most max characters at a character boundary, ending in "…". */
static void offline__clip(char *s, size_t max)
{
    size_t total = 0;
    for (const char *p = s; *p; p++)
        total += ((unsigned char)*p & 0xC0) != 0x80;
    if (total <= max)
        return;
    size_t chars = 0;
    for (char *p = s; *p; p++) {
        if (((unsigned char)*p & 0xC0) != 0x80 && chars++ == max - 1) {
            strcpy(p, "\xE2\x80\xA6"); /* "…" fits: the text had more after this */
            return;
        }
    }
}

static int offline__words(const char *s)
{
    int n = 0;
    for (bool in = false; *s; s++) {
        bool space = isspace((unsigned char)*s) != 0;
        n += !space && !in;
        in = !space;
    }
    return n;
}

/* How many of the variants the persona's temperature lets the writer use. */
static int offline__pool(double temperature)
{
    int pool = 1 + (int)(temperature * (OFFLINE_VARIANTS - 1));
    return pool < 1 ? 1 : pool > OFFLINE_VARIANTS ? OFFLINE_VARIANTS : pool;
}

/* The format strings are ours and take only these arguments. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static json_t *offline__scene(const offline_lang *L, const llm_request *rq, const char *topic,
                              int i, int n, const char *salt)
{
    const llm_brief *b = rq->brief;
    int point, points;
    offline_role role = offline__role(i, n, &point, &points);
    uint64_t h = offline__hash(0, b->topic);
    h = offline__hash(h, b->seed);
    h = offline__hash(h, salt);
    char idx[16];
    snprintf(idx, sizeof(idx), "%d", i);
    h = offline__hash(h, idx);
    int pool = offline__pool(rq->temperature);
    int vn = (int)(h % (uint64_t)pool);
    int vv = (int)((h >> 20) % (uint64_t)pool);
    char narration[2048], visual[2048];
    snprintf(narration, sizeof(narration), L->narration[role][vn], topic, points, point);
    snprintf(visual, sizeof(visual), L->visual[role][vv], topic, points, point);
    /* A sentence may start with the topic: give it its capital back. */
    if (narration[0] != '\0' && islower((unsigned char)narration[0]))
        narration[0] = (char)toupper((unsigned char)narration[0]);
    buf text;
    buf_init(&text, OFFLINE_TEXT_MAX);
    buf_puts(&text, narration);
    /* Longer scenes (a long target_seconds) get more sentences, until the
     * narration has the words asked for or every extra was used once. */
    int start = (int)((h >> 40) % OFFLINE_EXTRAS);
    for (int k = 0; k < OFFLINE_EXTRAS && offline__words(buf_cstr(&text)) < b->scene_words; k++) {
        char more[1024];
        snprintf(more, sizeof(more), L->extra[(start + k) % OFFLINE_EXTRAS], topic);
        buf_printf(&text, " %s", more);
    }
    json_t *sc = json_pack("{s:s,s:s}", "visual_description", visual, "narration", buf_cstr(&text));
    buf_free(&text);
    return sc;
}

static void offline__tags(const offline_lang *L, const char *topic, json_t *tags)
{
    json_array_append_new(tags, json_string(L->tag_word));
    char word[64];
    size_t k = 0;
    for (const char *p = topic;; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch != '\0' && (isalnum(ch) || ch >= 0x80 || ch == '-') && k + 1 < sizeof(word)) {
            word[k++] = (char)tolower(ch);
            continue;
        }
        word[k] = '\0';
        if (k >= 4 && json_array_size(tags) < 6) {
            bool seen = false;
            size_t i;
            json_t *t;
            json_array_foreach(tags, i, t) seen |= strcmp(json_string_value(t), word) == 0;
            json_t *w = seen ? NULL : json_string(word); /* NULL for broken UTF-8 */
            if (w != NULL)
                json_array_append_new(tags, w);
        }
        k = 0;
        if (ch == '\0')
            break;
    }
}

static void offline__generate(const llm *m, const llm_request *rq, llm_result *out)
{
    const llm_brief *b = rq->brief;
    if (b == NULL || b->topic == NULL) {
        llm__fail(out, LLM_PERMANENT, "config", "the offline writer needs a topic");
        return;
    }
    const char *lang = b->language ? b->language : "en";
    bool pt = strncasecmp(lang, "pt", 2) == 0 && (lang[2] == '\0' || lang[2] == '-');
    const offline_lang *L = pt ? &OFFLINE_PT : &OFFLINE_EN;
    char topic[2048];
    offline__topic(b->topic, topic, sizeof(topic));

    if (b->scene_index >= 0) {
        int n = b->scene_count > b->scene_index ? b->scene_count : b->scene_index + 1;
        /* A rewrite must differ from what the scene says now: the seed
         * carries the request's own salt. */
        out->json = offline__scene(L, rq, topic, b->scene_index, n, "rewrite");
        out->outcome = LLM_OK;
        return;
    }
    int n = b->scenes > 0 ? b->scenes : 6;
    json_t *scenes = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(scenes, offline__scene(L, rq, topic, i, n, "script"));

    char title[1024];
    snprintf(title, sizeof(title), L->title, b->topic);
    offline__clip(title, 100);
    buf desc;
    buf_init(&desc, OFFLINE_TEXT_MAX);
    buf_printf(&desc, L->description, topic, b->persona_name ? b->persona_name : "(none)");
    if (!pt && strncasecmp(lang, "en", 2) != 0)
        buf_puts(&desc, L->other_language);
    if (b->instructions != NULL && b->instructions[0] != '\0')
        buf_puts(&desc, L->instructions_note);
    char *d = (char *)buf_cstr(&desc);
    offline__clip(d, 5000);
    json_t *tags = json_array();
    offline__tags(L, b->topic, tags);
    out->json = json_pack("{s:s,s:s,s:o,s:o}", "title", title, "description", d, "tags", tags,
                          "scenes", scenes);
    buf_free(&desc);
    out->outcome = out->json ? LLM_OK : LLM_PERMANENT;
    if (out->json == NULL)
        llm__fail(out, LLM_PERMANENT, "config", "the offline writer could not encode the draft");
    (void)m;
}
#pragma GCC diagnostic pop

const llm__vtable llm__offline = {LLM_OFFLINE_PROVIDER, offline__generate};
